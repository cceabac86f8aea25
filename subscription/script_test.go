package subscription

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

// TestDispatcherScripts runs testdata/*.txt against a Dispatcher. Regenerate
// the transcripts with: go test ./subscription -run Scripts -rewrite
//
// Commands (name=... names a consumer; times are offsets from the script's
// virtual epoch, which starts at 0 and only moves with "advance"):
//
//	new [type=shared] [start=N] [end=N] [initial=earliest|latest] [md=N acked=a-b,c-d] [max-unacked=N]
//	add name=a [type=..] [prio=N] [permits=N] [ack-timeout=D] [nack-delay=D] [max-redeliver=N]
//	remove name=a | permits name=a n=N
//	end N | start N | advance D | tick
//	dispatch [max=N] [room=a:N,b:N]
//	ack name=a off=N | ack-cum name=a off=N | nack name=a off=N
//	seek off=N | skip n=N
//	take-dead | dead-lettered off=N | dead-failed off=N retry=D
//	state | stats | deadline | room-bound
//	keys [from=N] k1 k2 ... (the keys of offsets N, N+1, ...; "-" is no key)
//	owners (Key_Shared: each key's hash, owner and held messages)
//
// On Key_Shared subscriptions, dispatch first feeds the dispatcher the keys
// it asks for (KeysWanted/LearnKeys) and repeats while MoreKeys says so, as
// the shell does.
func TestDispatcherScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		s := &script{t: t}
		datadriven.RunTest(t, path, s.run)
	})
}

type script struct {
	t     *testing.T
	d     *Dispatcher
	names map[string]ConsumerID
	now   time.Duration
	keyOf map[uint64]string
}

var epoch = time.Unix(1_700_000_000, 0)

func (s *script) at() time.Time { return epoch.Add(s.now) }

func (s *script) run(t *testing.T, td *datadriven.TestData) (out string) {
	defer func() {
		if r := recover(); r != nil {
			out = fmt.Sprintf("panic: %v", r)
		}
	}()
	arg := func(key, def string) string {
		for _, a := range td.CmdArgs {
			if a.Key == key {
				return strings.Join(a.Vals, ",")
			}
		}
		return def
	}
	num := func(key string, def int) int {
		n, err := strconv.Atoi(arg(key, strconv.Itoa(def)))
		if err != nil {
			t.Fatalf("%s: bad %s: %v", td.Pos, key, err)
		}
		return n
	}
	dur := func(key string) time.Duration {
		v := arg(key, "0s")
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("%s: bad %s: %v", td.Pos, key, err)
		}
		return d
	}
	typ := func() Type {
		ty, err := ParseType(arg("type", "exclusive"))
		if err != nil {
			t.Fatalf("%s: %v", td.Pos, err)
		}
		return ty
	}
	id := func() ConsumerID {
		n := arg("name", "")
		if c, ok := s.names[n]; ok {
			return c
		}
		return ConsumerID(1 << 40) // unknown on purpose
	}
	result := func(err error) string {
		if err != nil {
			return "error: " + err.Error()
		}
		return "ok"
	}
	first := func() uint64 {
		if len(td.CmdArgs) == 0 {
			t.Fatalf("%s: %s needs an argument", td.Pos, td.Cmd)
		}
		n, err := strconv.ParseUint(td.CmdArgs[0].Key, 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", td.Pos, err)
		}
		return n
	}

	if td.Cmd != "new" && s.d == nil {
		t.Fatalf("%s: no dispatcher; start with new", td.Pos)
	}
	switch td.Cmd {
	case "new":
		start, end := uint64(num("start", 0)), uint64(num("end", 0))
		st := CursorState{MarkDelete: uint64(num("md", 0))}
		if arg("initial", "") != "" {
			pos, err := ParsePosition(arg("initial", ""))
			if err != nil {
				t.Fatal(err)
			}
			st = InitialCursor(pos, start, end)
		}
		if a := arg("acked", ""); a != "" {
			for _, r := range strings.Split(a, ",") {
				lo, hi, _ := strings.Cut(r, "-")
				l, _ := strconv.ParseUint(lo, 10, 64)
				h, _ := strconv.ParseUint(hi, 10, 64)
				st.Acked = append(st.Acked, Range{From: l, To: h})
			}
		}
		d, err := NewDispatcher(DispatcherConfig{Name: "sub", Type: typ(), MaxUnackedPerConsumer: num("max-unacked", 0)}, st, start, end)
		if err != nil {
			return result(err)
		}
		s.d, s.names, s.now = d, map[string]ConsumerID{}, 0
		return s.state()
	case "add":
		cid, err := s.d.AddConsumer(ConsumerConfig{
			Name: arg("name", ""), Priority: num("prio", 0), Type: typ(), Permits: num("permits", 0),
			AckTimeout: dur("ack-timeout"), NackDelay: dur("nack-delay"), MaxRedeliverCount: num("max-redeliver", 0),
		})
		if err != nil {
			return result(err)
		}
		s.names[arg("name", "")] = cid
		return s.state()
	case "remove":
		err := s.d.RemoveConsumer(id())
		if err == nil {
			delete(s.names, arg("name", ""))
			return s.state()
		}
		return result(err)
	case "permits":
		return result(s.d.AddPermits(id(), num("n", 0)))
	case "end":
		s.d.LogEnd(first())
		return s.state()
	case "start":
		s.d.LogStart(first())
		return s.state()
	case "advance":
		d, err := time.ParseDuration(td.CmdArgs[0].Key)
		if err != nil {
			t.Fatal(err)
		}
		s.now += d
		return fmt.Sprintf("now=%v", s.now)
	case "tick":
		s.d.Tick(s.at())
		return s.state()
	case "dispatch":
		var room func(ConsumerID) int
		if r := arg("room", ""); r != "" {
			rooms := map[ConsumerID]int{}
			for _, kv := range strings.Split(r, ",") {
				k, v, _ := strings.Cut(kv, ":")
				n, _ := strconv.Atoi(v)
				rooms[s.names[k]] = n
			}
			room = func(id ConsumerID) int {
				if n, ok := rooms[id]; ok {
					return n
				}
				return 1 << 30
			}
		}
		as := dispatchWithKeys(s.d, func(o uint64) string { return s.keyOf[o] }, s.at(), room, num("max", 1000))
		var b strings.Builder
		for _, a := range as {
			fmt.Fprintf(&b, "%s <- %d", s.name(a.Consumer), a.Offset)
			if a.RedeliveryCount > 0 {
				fmt.Fprintf(&b, " (redelivery %d)", a.RedeliveryCount)
			}
			b.WriteString("\n")
		}
		if len(as) == 0 {
			b.WriteString("nothing\n")
		}
		return b.String()
	case "ack":
		return result(s.d.Ack(id(), uint64(num("off", 0))))
	case "ack-cum":
		return result(s.d.AckCumulative(id(), uint64(num("off", 0))))
	case "nack":
		return result(s.d.Nack(id(), uint64(num("off", 0)), s.at()))
	case "seek":
		return fmt.Sprintf("seek to %d\n%s", s.d.Seek(uint64(num("off", 0))), s.state())
	case "skip":
		n, err := s.d.Skip(num("n", 0))
		if err != nil {
			return result(err)
		}
		return fmt.Sprintf("skipped %d\n%s", n, s.state())
	case "take-dead":
		var b strings.Builder
		for _, dl := range s.d.TakeDeadLetters() {
			fmt.Fprintf(&b, "dead-letter %d (redelivery %d)\n", dl.Offset, dl.RedeliveryCount)
		}
		if b.Len() == 0 {
			return "none"
		}
		return b.String()
	case "dead-lettered":
		return fmt.Sprintf("%v\n%s", s.d.DeadLettered(uint64(num("off", 0))), s.state())
	case "dead-failed":
		s.d.DeadLetterFailed(uint64(num("off", 0)), s.at().Add(dur("retry")))
		return s.state()
	case "state":
		return s.state()
	case "keys":
		if s.keyOf == nil {
			s.keyOf = map[uint64]string{}
		}
		off := uint64(num("from", 0))
		for _, a := range td.CmdArgs {
			if a.Key == "from" {
				continue
			}
			k := a.Key
			if k == "-" {
				k = ""
			}
			s.keyOf[off] = k
			off++
		}
		return "ok"
	case "owners":
		return s.owners()
	case "stats":
		st := s.d.Stats()
		var b strings.Builder
		fmt.Fprintf(&b, "%s type=%v mark-delete=%d read=%d end=%d backlog=%d acked-ranges=%d redelivery-queue=%d\n",
			st.Name, st.Type, st.MarkDelete, st.ReadPosition, st.End, st.Backlog, st.AckedRanges, st.RedeliveryQueue)
		for _, c := range st.Consumers {
			fmt.Fprintf(&b, "  %s prio=%d active=%v permits=%d unacked=%d\n", c.Name, c.Priority, c.Active, c.Permits, c.Unacked)
		}
		return b.String()
	case "room-bound":
		return fmt.Sprint(s.d.RoomBound())
	case "deadline":
		if at, ok := s.d.NextDeadline(); ok {
			return fmt.Sprintf("next deadline at %v", at.Sub(epoch))
		}
		return "no deadline"
	}
	t.Fatalf("%s: unknown command %q", td.Pos, td.Cmd)
	return ""
}

// owners prints, for each key of the script, its hash, its owner and the
// held (tracked, unacknowledged) messages of that hash.
func (s *script) owners() string {
	seen := map[string]bool{}
	var keys []string
	for _, k := range s.keyOf {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		h := KeyHash(k)
		owner := "none"
		if c := s.d.owner(h); c != nil {
			owner = c.cfg.Name
		}
		fmt.Fprintf(&b, "%q hash=%d owner=%s", k, h, owner)
		if hs := s.d.hashes[h]; hs != nil {
			fmt.Fprintf(&b, " held: out=%d", hs.out)
			if hs.out > 0 {
				fmt.Fprintf(&b, "@%s", s.name(hs.holder))
			}
			fmt.Fprintf(&b, " ready=%d parked=%v", hs.ready, hs.parked)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func (s *script) name(id ConsumerID) string {
	for n, c := range s.names {
		if c == id {
			return n
		}
	}
	return fmt.Sprintf("#%d", id)
}

// state prints the dispatcher's whole state compactly.
func (s *script) state() string {
	d := s.d
	if err := d.checkInvariants(); err != nil {
		s.t.Errorf("invariant broken: %v", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "cursor: mark-delete=%d acked=%v read=%d log=[%d,%d) type=%v version=%d\n",
		d.markDelete, d.acked.rs, d.readPos, d.start, d.end, d.typ, d.version)
	for _, c := range d.order {
		out := make([]uint64, 0, len(c.out))
		for off := range c.out {
			out = append(out, off)
		}
		slices.Sort(out)
		active := ""
		if d.active == c {
			active = " active"
		}
		fmt.Fprintf(&b, "  %s%s prio=%d permits=%d outstanding=%v\n", c.cfg.Name, active, c.cfg.Priority, c.permits, out)
	}
	var ready, delayed, dead []string
	offs := make([]uint64, 0, len(d.msgs))
	for off := range d.msgs {
		offs = append(offs, off)
	}
	slices.Sort(offs)
	for _, off := range offs {
		m := d.msgs[off]
		item := fmt.Sprintf("%d(r%d)", off, m.count)
		switch m.loc {
		case locReady:
			ready = append(ready, item)
		case locDelayed:
			due := ""
			for _, e := range d.delayed {
				if e.offset == off && e.seq == m.seq {
					due = "@" + e.due.Sub(epoch).String()
				}
			}
			if m.deadLetter {
				due += ",dead"
			}
			delayed = append(delayed, item+due)
		case locDeadLetter, locDeadLettering:
			dead = append(dead, item)
		}
	}
	if len(ready)+len(delayed)+len(dead) > 0 {
		fmt.Fprintf(&b, "  queues: ready=%v delayed=%v dead-letter=%v\n", ready, delayed, dead)
	}
	return b.String()
}
