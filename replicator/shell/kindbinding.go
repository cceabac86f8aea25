package shell

import (
	"errors"
	"fmt"
	"maps"

	"github.com/causeway/causeway/replicator"
)

// WithKind returns kinds (Options.Kinds; nil for none) with kind added,
// applied by apply, so that the journal tails the shell re-applies on start
// reach it. kinds itself is not changed. Packages below the shell (which
// cannot import it) bind their replicated state this way.
func WithKind(kinds map[Kind]ApplyFunc, kind Kind, apply ApplyFunc) map[Kind]ApplyFunc {
	out := maps.Clone(kinds)
	if out == nil {
		out = map[Kind]ApplyFunc{}
	}
	out[kind] = apply
	return out
}

// Publisher returns a function that publishes payloads as ops of kind and
// reports each outcome; an outcome meaning the replication cannot take ops
// now (closed, failed, the region joining, another node leading the
// region's journals) wraps unavailable, the error the caller's package
// answers with.
func (s *Shell) Publisher(kind Kind, unavailable error) func(payload []byte, done func(error)) {
	return publisher(s.PublishOp, kind, unavailable)
}

func publisher(publish func(Kind, []byte, func(replicator.Dot, error)), kind Kind, unavailable error) func(payload []byte, done func(error)) {
	return func(payload []byte, done func(error)) {
		publish(kind, payload, func(_ replicator.Dot, err error) {
			if errors.Is(err, ErrClosed) || errors.Is(err, ErrFailed) || errors.Is(err, replicator.ErrJoining) || errors.Is(err, ErrNotLeading) {
				err = fmt.Errorf("%w: %w", unavailable, err)
			}
			done(err)
		})
	}
}
