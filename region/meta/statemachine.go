package meta

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	sm "github.com/lni/dragonboat/v4/statemachine"

	"github.com/causeway/causeway/region"
)

// Results of an applied entry (sm.Result.Value); a refusal carries the
// error's text in Data.
const (
	resultApplied uint64 = iota
	resultRefused
)

// stateMachine is region.State as a dragonboat state machine. Reads take
// a clone under the lock; applied entries are reported to observe (the
// group's controller and change notifications) after the lock is released.
type stateMachine struct {
	mu      sync.RWMutex
	state   *region.State
	observe func(index uint64, c region.Command, err error)
}

func newStateMachine(observe func(uint64, region.Command, error)) *stateMachine {
	return &stateMachine{state: region.NewState(), observe: observe}
}

// Update applies one entry. An entry that does not decode is refused like
// any command that does not fit: it never stops the group.
func (s *stateMachine) Update(e sm.Entry) (sm.Result, error) {
	c, err := region.DecodeCommand(e.Cmd)
	s.mu.Lock()
	if err == nil {
		err = s.state.Apply(e.Index, c)
	} else {
		s.state.Applied = e.Index
	}
	s.mu.Unlock()
	s.observe(e.Index, c, err)
	if err != nil {
		return sm.Result{Value: resultRefused, Data: []byte(err.Error())}, nil
	}
	return sm.Result{Value: resultApplied}, nil
}

// kvQuery asks Lookup for one key of the region's key-value map; it answers
// a kvAnswer.
type kvQuery struct{ key string }

// kvScan asks Lookup for every key of the map beginning with prefix; it
// answers a map[string]string.
type kvScan struct{ prefix string }

type kvAnswer struct {
	value string
	ok    bool
}

// Lookup answers a read: a kvQuery with one value of the key-value map,
// anything else with a copy of the state without that map (whose size
// does not bound how often the state is read).
func (s *stateMachine) Lookup(q any) (any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch q := q.(type) {
	case kvQuery:
		v, found := s.state.KV[q.key]
		return kvAnswer{value: v, ok: found}, nil
	case kvScan:
		out := map[string]string{}
		for k, v := range s.state.KV {
			if strings.HasPrefix(k, q.prefix) {
				out[k] = v
			}
		}
		return out, nil
	}
	return s.state.CloneWithoutKV(), nil
}

func (s *stateMachine) SaveSnapshot(w io.Writer, _ sm.ISnapshotFileCollection, _ <-chan struct{}) error {
	s.mu.RLock()
	b, err := json.Marshal(s.state)
	s.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("meta: snapshot: %w", err)
	}
	_, err = w.Write(b)
	return err
}

func (s *stateMachine) RecoverFromSnapshot(r io.Reader, _ []sm.SnapshotFile, _ <-chan struct{}) error {
	st := region.NewState()
	if err := json.NewDecoder(r).Decode(st); err != nil {
		return fmt.Errorf("meta: recover snapshot: %w", err)
	}
	if st.Nodes == nil {
		st.Nodes = map[region.NodeID]*region.Node{}
	}
	if st.Units == nil {
		st.Units = map[region.UnitID]*region.Unit{}
	}
	s.mu.Lock()
	s.state = st
	s.mu.Unlock()
	// Watchers wake as for an entry: anything may have changed.
	s.observe(st.Applied, region.Command{}, nil)
	return nil
}

func (s *stateMachine) Close() error { return nil }
