package shell

import (
	"fmt"
	"sync"
)

// ApplyFunc applies one replicated op of a registered kind (payload is the
// op's body without the version and kind bytes). It runs on the shell's
// completer goroutine, in causal order, for local and remote ops alike,
// and again after a restart for ops whose application the shell cannot
// prove (it must be idempotent on (origin, seq)).
type ApplyFunc func(origin string, seq uint64, payload []byte) error

// kindTable holds the registered kinds.
type kindTable struct {
	mu    sync.RWMutex
	apply map[Kind]ApplyFunc
}

func (t *kindTable) get(k Kind) ApplyFunc {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.apply[k]
}

// RegisterKind registers the apply function of an op kind (not
// KindStreamMessage). Ops of a kind delivered while it has no apply
// function are journaled but not applied (counted as unknown kinds); this
// includes the journal tails re-applied by Start, so a service that
// registers after Start re-applies its own log on open.
func (s *Shell) RegisterKind(kind Kind, apply ApplyFunc) error {
	if kind == 0 || kind == KindStreamMessage || apply == nil {
		return fmt.Errorf("shell: register kind %d: %w", kind, ErrUnknownKind)
	}
	s.kinds.mu.Lock()
	defer s.kinds.mu.Unlock()
	if s.kinds.apply == nil {
		s.kinds.apply = make(map[Kind]ApplyFunc)
	}
	if _, dup := s.kinds.apply[kind]; dup {
		return fmt.Errorf("shell: kind %d registered twice: %w", kind, ErrUnknownKind)
	}
	s.kinds.apply[kind] = apply
	return nil
}
