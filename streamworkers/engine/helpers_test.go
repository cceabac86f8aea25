package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// cat is a test catalog.
type cat struct{ streams, colls []string }

func (c cat) StreamExists(n string) bool     { return contains(c.streams, n) }
func (c cat) CollectionExists(n string) bool { return contains(c.colls, n) }

var testCat = cat{
	streams: []string{"orders", "clicks", "payments", "shipments", "logins", "sink", "shared"},
	colls:   []string{"users", "totals", "shared"},
}

// docs is a Lookup over a map.
type docs map[string]string

func (d docs) Get(coll, key string) ([]byte, bool, error) {
	if key == "boom" {
		return nil, false, errors.New("disk on fire")
	}
	v, ok := d[coll+"/"+key]
	return []byte(v), ok, nil
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// at is t0 plus ms milliseconds.
func at(ms int64) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// ms is t0's Unix milliseconds plus d.
func ms(d int64) int64 { return t0.UnixMilli() + d }

// step is one input of a scenario: an event, or an Advance when adv is set.
type step struct {
	stream  string
	key     string
	payload string
	pub     int64 // publish time, ms after t0
	adv     bool
	props   map[string]string
}

func ev(stream, key, payload string, pub int64) step {
	return step{stream: stream, key: key, payload: payload, pub: pub}
}

func advance(ms int64) step { return step{adv: true, pub: ms} }

func mustCompile(t testing.TB, q string) *Plan {
	t.Helper()
	p, err := Compile(q, testCat)
	if err != nil {
		t.Fatalf("Compile(%q): %v", q, err)
	}
	return p
}

// run feeds the steps and returns one line per row ("key value") and per
// error ("ERR stream@pos: message").
func run(t testing.TB, w *Worker, steps []step) []string {
	t.Helper()
	var out []string
	pos := map[string]uint64{}
	for _, s := range steps {
		if s.adv {
			for _, r := range w.Advance(at(s.pub)) {
				out = append(out, r.Key+" "+string(r.Value))
			}
			for _, e := range w.AdvanceErrors() {
				out = append(out, "ERR "+e.Err.Error())
			}
			continue
		}
		pos[s.stream]++
		rows, errs := w.Process(Event{Stream: s.stream, Position: pos[s.stream], Key: s.key, Payload: []byte(s.payload), Properties: s.props, Time: at(s.pub)})
		for _, r := range rows {
			out = append(out, r.Key+" "+string(r.Value))
		}
		for _, e := range errs {
			out = append(out, fmt.Sprintf("ERR %s@%d: %v", e.Event.Stream, e.Event.Position, e.Err))
		}
	}
	return out
}

func check(t *testing.T, name string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got:\n  %s\n want:\n  %s", name, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
