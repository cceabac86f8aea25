package engine

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
)

// snapshotVersion is the format of Snapshot's bytes.
const snapshotVersion = 1

// snapshot is the encoded state: JSON with groups and buffers in key order,
// so equal states encode to equal bytes.
type snapshot struct {
	Version int    `json:"v"`
	Query   uint64 `json:"query"` // FNV-1a of the query text
	MaxTime int64  `json:"max_time"`
	HasTime bool   `json:"has_time,omitempty"`
	WM      int64  `json:"wm"`
	HasWM   bool   `json:"has_wm,omitempty"`
	Proc    int64  `json:"proc"`
	Seq     uint64 `json:"seq"`

	Groups  []snapGroup   `json:"groups,omitempty"`
	Join    [2][]snapList `json:"join"`
	Pending []snapList    `json:"pending,omitempty"`
}

type snapGroup struct {
	Vals []value `json:"vals"`
	Wins []*win  `json:"wins"`
}

type snapList struct {
	Key    string     `json:"key"`
	Events []buffered `json:"events"`
}

func queryHash(text string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(text))
	return h.Sum64()
}

// Snapshot returns everything needed to continue exactly where the worker
// is: NewWorker(snapshot) then the same calls give the same rows.
func (w *Worker) Snapshot() ([]byte, error) {
	st := w.st
	s := snapshot{
		Version: snapshotVersion, Query: queryHash(w.q.text),
		MaxTime: st.maxTime, HasTime: st.hasTime, WM: st.wm, HasWM: st.hasWM, Proc: st.proc, Seq: st.seq,
		Join: [2][]snapList{{}, {}},
	}
	keys := make([]string, 0, len(st.groups))
	for k := range st.groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g := st.groups[k]
		s.Groups = append(s.Groups, snapGroup{Vals: g.vals, Wins: g.wins})
	}
	for side := 0; side < 2; side++ {
		s.Join[side] = lists(st.join[side])
	}
	s.Pending = lists(st.pending)
	b, err := json.Marshal(&s)
	if err != nil {
		return nil, fmt.Errorf("streamworkers: snapshot: %w", err)
	}
	return b, nil
}

func lists(m map[string][]buffered) []snapList {
	out := make([]snapList, 0, len(m))
	for k, l := range m {
		out = append(out, snapList{Key: k, Events: l})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// decodeState reads a snapshot of this plan's query, checking its shape.
func decodeState(q *query, b []byte) (*state, error) {
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrState, err)
	}
	if s.Version != snapshotVersion {
		return nil, fmt.Errorf("%w: snapshot version %d, want %d", ErrState, s.Version, snapshotVersion)
	}
	if s.Query != queryHash(q.text) {
		return nil, fmt.Errorf("%w: the snapshot is of another query", ErrState)
	}
	st := newState()
	st.maxTime, st.hasTime, st.wm, st.hasWM, st.proc, st.seq = s.MaxTime, s.HasTime, s.WM, s.HasWM, s.Proc, s.Seq
	next := int64(math.MaxInt64)
	for _, sg := range s.Groups {
		if len(sg.Vals) != len(q.groupExprs) || len(sg.Wins) == 0 {
			return nil, fmt.Errorf("%w: a group of %d values and %d windows", ErrState, len(sg.Vals), len(sg.Wins))
		}
		for _, v := range sg.Vals {
			if err := checkValue(v); err != nil {
				return nil, err
			}
		}
		g := &group{key: groupKey(sg.Vals), vals: sg.Vals, wins: sg.Wins}
		if _, dup := st.groups[g.key]; dup {
			return nil, fmt.Errorf("%w: group %q twice", ErrState, g.key)
		}
		st.groups[g.key] = g
		st.bytes += groupBytes(g)
		for i, wn := range g.wins {
			if wn == nil || len(wn.Aggs) != len(q.aggs) || (i > 0 && g.wins[i-1].Start >= wn.Start) {
				return nil, fmt.Errorf("%w: a window of the wrong shape", ErrState)
			}
			for _, a := range wn.Aggs {
				if err := checkValue(a.V); err != nil {
					return nil, err
				}
			}
			for _, r := range wn.Ring {
				if len(r) != len(q.aggs) {
					return nil, fmt.Errorf("%w: a window of the wrong shape", ErrState)
				}
				for _, v := range r {
					if err := checkValue(v); err != nil {
						return nil, err
					}
				}
			}
			if len(wn.Ring) > q.win.count {
				return nil, fmt.Errorf("%w: a window of the wrong shape", ErrState)
			}
			st.windows++
			st.bytes += winBytes(wn)
			if wn.Fired {
				next = min(next, wn.End+q.lateness)
			} else {
				next = min(next, wn.End)
			}
		}
	}
	st.nextFire = next
	for side := 0; side < 2; side++ {
		for _, l := range s.Join[side] {
			if len(l.Events) == 0 {
				continue
			}
			st.join[side][l.Key] = l.Events
			for _, b := range l.Events {
				st.bytes += bufferedBytes(b)
				e := b.T + q.upper + q.lateness
				if side == 1 {
					e = b.T + q.lower + q.lateness
				}
				st.nextEvict = min(st.nextEvict, e)
			}
		}
	}
	for _, l := range s.Pending {
		if len(l.Events) == 0 {
			continue
		}
		st.pending[l.Key] = l.Events
		for _, b := range l.Events {
			st.bytes += bufferedBytes(b)
			st.nextEvict = min(st.nextEvict, b.T+q.within)
		}
	}
	return st, nil
}

func checkValue(v value) error {
	if v.K > kRaw {
		return fmt.Errorf("%w: a value of kind %d", ErrState, v.K)
	}
	return nil
}
