package kafka

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/causeway/causeway/broker/naming"
)

func st(wall int64, region string) topicStamp { return topicStamp{Wall: wall, Region: region} }

func evCreate(wall int64, region string, n int, configs map[string]string) topicEvent {
	return topicEvent{Type: topicCreate, Tenant: "_mm", Fabric: "_system", Topic: "t", Partitions: n, Configs: configs, Stamp: st(wall, region)}
}

func evGrow(wall int64, region string, n int) topicEvent {
	return topicEvent{Type: topicPartitions, Tenant: "_mm", Fabric: "_system", Topic: "t", Partitions: n, Stamp: st(wall, region)}
}

func evDelete(wall int64, region string) topicEvent {
	return topicEvent{Type: topicDelete, Tenant: "_mm", Fabric: "_system", Topic: "t", Stamp: st(wall, region)}
}

// TestTopicMergeTable: the merge rules of topicmerge.go, case by case.
func TestTopicMergeTable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events []topicEvent
		want   topicView
	}{
		{"nothing", nil, topicView{}},
		{"one create", []topicEvent{evCreate(1, "a", 3, nil)}, topicView{Partitions: 3}},
		{"one partition is plain", []topicEvent{evCreate(1, "a", 1, nil)}, topicView{Partitions: 1, Plain: true}},
		{"concurrent creates: max count, earliest layout", []topicEvent{evCreate(1, "a", 3, nil), evCreate(2, "b", 1, nil)},
			topicView{Partitions: 3}},
		{"earliest plain create keeps partition 0 plain", []topicEvent{evCreate(1, "b", 1, nil), evCreate(2, "a", 3, nil)},
			topicView{Partitions: 3, Plain: true}},
		{"same time: region breaks the tie", []topicEvent{evCreate(5, "b", 1, nil), evCreate(5, "a", 2, nil)},
			topicView{Partitions: 2}},
		{"configs: latest create wins", []topicEvent{evCreate(1, "a", 1, map[string]string{"x": "1"}), evCreate(2, "b", 1, map[string]string{"x": "2"})},
			topicView{Partitions: 1, Plain: true, Configs: map[string]string{"x": "2"}}},
		{"grow", []topicEvent{evCreate(1, "a", 1, nil), evGrow(2, "a", 4)}, topicView{Partitions: 4, Plain: true}},
		{"grow never shrinks", []topicEvent{evCreate(1, "a", 5, nil), evGrow(2, "a", 3)}, topicView{Partitions: 5}},
		{"delete", []topicEvent{evCreate(1, "a", 3, nil), evDelete(2, "b")}, topicView{}},
		{"create after delete", []topicEvent{evCreate(1, "a", 3, nil), evDelete(2, "b"), evCreate(3, "a", 2, nil)},
			topicView{Partitions: 2}},
		{"create concurrent with an earlier delete survives", []topicEvent{evDelete(2, "b"), evCreate(3, "a", 2, nil), evCreate(1, "c", 7, nil)},
			topicView{Partitions: 2}},
		{"grow older than the delete is forgotten", []topicEvent{evCreate(1, "a", 1, nil), evGrow(2, "a", 9), evDelete(3, "b"), evCreate(4, "a", 2, nil)},
			topicView{Partitions: 2}},
		{"grow after the delete counts", []topicEvent{evCreate(4, "a", 2, nil), evDelete(3, "b"), evGrow(5, "c", 6)},
			topicView{Partitions: 6}},
		{"grow alone makes no topic", []topicEvent{evGrow(5, "c", 6)}, topicView{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s topicState
			for _, ev := range tc.events {
				s = mergeTopic(s, ev)
			}
			if got := s.view(); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("view %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestTopicMergeConverges: any order of the same events, each applied any
// number of times, gives the same state; and the grow frontier keeps the
// count every order would compute from all events.
func TestTopicMergeConverges(t *testing.T) {
	for seed := uint64(0); seed < 3000; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		regions := []string{"a", "b", "c"}
		var events []topicEvent
		for range 1 + rng.IntN(10) {
			wall, r := int64(1+rng.IntN(20)), regions[rng.IntN(len(regions))]
			switch rng.IntN(4) {
			case 0, 1:
				events = append(events, evCreate(wall, r, 1+rng.IntN(8), map[string]string{"by": r}))
			case 2:
				events = append(events, evGrow(wall, r, 1+rng.IntN(12)))
			default:
				events = append(events, evDelete(wall, r))
			}
		}
		// Stamps are unique per event: drop repeats.
		seen := map[topicStamp]bool{}
		events = slicesFilter(events, func(ev topicEvent) bool {
			if seen[ev.Stamp] {
				return false
			}
			seen[ev.Stamp] = true
			return true
		})
		var ref []byte
		for round := range 6 {
			order := append([]topicEvent(nil), events...)
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			if round%2 == 1 {
				order = append(order, order[:rng.IntN(len(order)+1)]...) // re-applied
			}
			var s topicState
			for _, ev := range order {
				s = mergeTopic(s, ev)
			}
			b, _ := json.Marshal(s)
			if ref == nil {
				ref = b
				if want := naiveView(events); !reflect.DeepEqual(s.view(), want) {
					t.Fatalf("seed %d: view %+v, want %+v (events %+v)", seed, s.view(), want, events)
				}
			} else if !bytes.Equal(b, ref) {
				t.Fatalf("seed %d: state %s, another order gave %s", seed, b, ref)
			}
		}
	}
}

// naiveView computes the rules of topicmerge.go from every event at once.
func naiveView(events []topicEvent) topicView {
	var deleted topicStamp
	for _, ev := range events {
		if ev.Type == topicDelete && ev.Stamp.compare(deleted) > 0 {
			deleted = ev.Stamp
		}
	}
	var v topicView
	var first, last *topicEvent
	for i, ev := range events {
		if ev.Type != topicCreate || ev.Stamp.compare(deleted) < 0 {
			continue
		}
		if first == nil || ev.Stamp.compare(first.Stamp) < 0 {
			first = &events[i]
		}
		if last == nil || ev.Stamp.compare(last.Stamp) > 0 {
			last = &events[i]
		}
	}
	if first == nil {
		return v
	}
	v.Plain, v.Configs = first.Partitions == 1, last.Configs
	for _, ev := range events {
		if ev.Type != topicDelete && ev.Stamp.compare(deleted) >= 0 {
			v.Partitions = max(v.Partitions, ev.Partitions)
		}
	}
	return v
}

func slicesFilter[T any](s []T, keep func(T) bool) []T {
	out := s[:0]
	for _, x := range s {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

// TestTopicEventRefusals: events that do not fit the format are refused.
func TestTopicEventRefusals(t *testing.T) {
	good := evCreate(1, "a", 3, map[string]string{"retention.ms": "1000"})
	b, err := appendTopicEvent(nil, good)
	if err != nil {
		t.Fatal(err)
	}
	if ev, err := decodeTopicEvent(b); err != nil || !reflect.DeepEqual(ev, good) {
		t.Fatalf("round trip: %+v, %v", ev, err)
	}
	for name, mutate := range map[string]func(*topicEvent){
		"type":              func(ev *topicEvent) { ev.Type = "rename" },
		"no partitions":     func(ev *topicEvent) { ev.Partitions = 0 },
		"too many":          func(ev *topicEvent) { ev.Partitions = maxPartitions + 1 },
		"topic":             func(ev *topicEvent) { ev.Topic = "a/b" },
		"tenant":            func(ev *topicEvent) { ev.Tenant = "" },
		"region":            func(ev *topicEvent) { ev.Stamp.Region = "" },
		"stamp":             func(ev *topicEvent) { ev.Stamp.Wall = 0 },
		"delete partitions": func(ev *topicEvent) { ev.Type = topicDelete },
		"configs on a grow": func(ev *topicEvent) { ev.Type = topicPartitions },
		"empty config name": func(ev *topicEvent) { ev.Configs = map[string]string{"": "x"} },
	} {
		ev := good
		mutate(&ev)
		if _, err := appendTopicEvent(nil, ev); !errors.Is(err, ErrBadTopicEvent) {
			t.Errorf("%s: encode %v, want ErrBadTopicEvent", name, err)
		}
	}
	for name, in := range map[string][]byte{"empty": nil, "version": append([]byte{9}, b[1:]...), "json": {1, '{'}} {
		if _, err := decodeTopicEvent(in); !errors.Is(err, ErrBadTopicEvent) {
			t.Errorf("%s: decode %v, want ErrBadTopicEvent", name, err)
		}
	}
}

// FuzzDecodeTopicEvent: a replicated topic event from anywhere decodes to a
// valid event that re-encodes and decodes the same, or is refused.
func FuzzDecodeTopicEvent(f *testing.F) {
	for _, ev := range []topicEvent{evCreate(1, "a", 3, map[string]string{"k": "v"}), evGrow(2, "b", 9), evDelete(3, "c")} {
		b, err := appendTopicEvent(nil, ev)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := decodeTopicEvent(b)
		if err != nil {
			if !errors.Is(err, ErrBadTopicEvent) {
				t.Fatalf("error %v is not ErrBadTopicEvent", err)
			}
			return
		}
		again, err := appendTopicEvent(nil, ev)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		ev2, err := decodeTopicEvent(again)
		if err != nil || !reflect.DeepEqual(ev, ev2) {
			t.Fatalf("round trip: %+v -> %+v, %v", ev, ev2, err)
		}
		_ = mergeTopic(topicState{}, ev).view()
	})
}

// TestTopicLongNames: a topic whose partition streams would have names over
// the limit is refused (before anything is stored), in a create and in a
// replicated event alike.
func TestTopicLongNames(t *testing.T) {
	long := strings.Repeat("t", naming.MaxNameBytes-len("-partition-9"))
	ev := evCreate(1, "a", 10, nil)
	ev.Topic = long
	if _, err := appendTopicEvent(nil, ev); err != nil {
		t.Fatalf("10 partitions of a %d-byte topic: %v", len(long), err)
	}
	ev.Partitions = 11
	if _, err := appendTopicEvent(nil, ev); !errors.Is(err, ErrBadTopicEvent) {
		t.Fatalf("11 partitions of a %d-byte topic: %v, want ErrBadTopicEvent", len(long), err)
	}
	if err := validPartitionNames(long, 11); !errors.Is(err, naming.ErrInvalidName) {
		t.Fatalf("validPartitionNames: %v, want ErrInvalidName", err)
	}
}
