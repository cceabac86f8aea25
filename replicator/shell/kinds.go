package shell

import (
	"errors"
	"fmt"
	"sync"
)

// ApplyFunc applies one replicated op of a registered kind (payload is the
// op's body without the version and kind bytes). It runs on the shell's
// completer goroutine, in causal order, for local and remote ops alike,
// and again after a restart for ops whose application the shell cannot
// prove (it must be idempotent on (origin, seq)).
type ApplyFunc func(origin string, seq uint64, payload []byte) error

// KindItem is one op handed to a BatchApplyFunc: its dot, the causal
// domain that numbered it and its payload (the body without the version
// and kind bytes). Each domain numbers an origin's ops from 1: a function
// fed by several domains (the node's and pinned fabrics') tells their
// sequences apart by Domain.
type KindItem struct {
	Origin string
	Seq    uint64
	// Domain is the shell's domain (Status.Domain; empty for the node's
	// shell, every region's domain).
	Domain  string
	Payload []byte
}

// BatchApplyFunc applies consecutive replicated ops of one registered kind,
// in the order given (the causal delivery order), and returns one error
// per item (nil: applied, or applied before); an item's error must not
// stop the others. Its contract is otherwise ApplyFunc's: the completer
// goroutine, local and remote ops alike, idempotent on (origin, seq). It
// must not keep items or their payloads past the call. The shell cuts
// batches at maxApplyBatchOps ops or maxApplyBatchBytes payload bytes, at
// the end of each step, and before an op of another kind or a stream
// message.
type BatchApplyFunc func(items []KindItem) []error

// errBatchResults is what each item of a batch gets when the batch
// function returns a wrong number of results (a bug in the service).
var errBatchResults = errors.New("shell: batch apply returned a wrong number of results")

// kindTable holds the registered kinds (an ApplyFunc registered alone is
// applied as a batch of one op after another: loopApply).
type kindTable struct {
	mu    sync.RWMutex
	apply map[Kind]BatchApplyFunc
}

// kindApply returns the apply function of a kind: registered, or from
// Options.BatchKinds (read-only after Start), nil when none.
func (s *Shell) kindApply(k Kind) BatchApplyFunc {
	s.kinds.mu.RLock()
	apply := s.kinds.apply[k]
	s.kinds.mu.RUnlock()
	if apply == nil && validKind(k) {
		apply = s.opts.BatchKinds[k]
	}
	return apply
}

func validKind(k Kind) bool { return k != 0 && k != KindStreamMessage }

// RegisterKind registers the apply function of an op kind (not
// KindStreamMessage). Ops of a kind delivered while it has no apply
// function are journaled but not applied (counted as unknown kinds); this
// includes the journal tails re-applied by Start, so a service that
// registers after Start re-applies its own log on open.
func (s *Shell) RegisterKind(kind Kind, apply ApplyFunc) error {
	if apply == nil {
		return fmt.Errorf("shell: register kind %d without a function: %w", kind, ErrUnknownKind)
	}
	return s.RegisterBatchKind(kind, loopApply(apply))
}

// RegisterBatchKind is RegisterKind for a kind whose consecutive ops are
// applied in batches (BatchApplyFunc). A kind is registered once, one way
// or the other (Options.Kinds and Options.BatchKinds included).
func (s *Shell) RegisterBatchKind(kind Kind, apply BatchApplyFunc) error {
	if !validKind(kind) || apply == nil {
		return fmt.Errorf("shell: register kind %d: %w", kind, ErrUnknownKind)
	}
	s.kinds.mu.Lock()
	defer s.kinds.mu.Unlock()
	if s.kinds.apply == nil {
		s.kinds.apply = make(map[Kind]BatchApplyFunc)
	}
	_, dup := s.kinds.apply[kind]
	if _, inOpts := s.opts.BatchKinds[kind]; dup || inOpts {
		return fmt.Errorf("shell: kind %d registered twice: %w", kind, ErrUnknownKind)
	}
	s.kinds.apply[kind] = apply
	return nil
}

// loopApply applies a batch with an ApplyFunc, one op after another.
func loopApply(apply ApplyFunc) BatchApplyFunc {
	return func(items []KindItem) []error {
		errs := make([]error, len(items))
		for i, it := range items {
			errs[i] = apply(it.Origin, it.Seq, it.Payload)
			if applyLater(errs[i]) {
				// The ops after it wait too: applied one by one, a kind's
				// ops may depend on the earlier ones (a backfill's end on
				// its parts); heal re-applies them all in order.
				for j := i + 1; j < len(items); j++ {
					errs[j] = fmt.Errorf("%w: after op %d of its kind", ErrApplyLater, it.Seq)
				}
				break
			}
		}
		return errs
	}
}
