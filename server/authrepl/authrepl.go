// Package authrepl owns the binding between the auth service's fabric-wide
// API keys (broker/auth, replication.go) and the node's replication shell
// (replicator/shell): key events travel as ops of shell.KindAuthEvent.
// broker/auth cannot import the shell (the shell imports the broker, which
// imports auth), so the node's assembly (server) wires the two
// through here: Kinds before the shell starts, Attach once it runs.
package authrepl

import (
	"errors"
	"fmt"
	"maps"

	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/shell"
)

// Kinds returns kinds (shell.Options.Kinds; nil for none) with the auth
// event kind added, applied by sec, so that the journal tails the shell
// re-applies on start reach it. kinds itself is not changed.
func Kinds(sec *auth.Service, kinds map[shell.Kind]shell.ApplyFunc) map[shell.Kind]shell.ApplyFunc {
	out := maps.Clone(kinds)
	if out == nil {
		out = map[shell.Kind]shell.ApplyFunc{}
	}
	out[shell.KindAuthEvent] = sec.ApplyReplicated
	return out
}

// Attach makes sec's keys fabric-wide through repl once it runs; a nil
// repl (a single-region node) is a no-op.
func Attach(sec *auth.Service, repl *shell.Shell) {
	if repl != nil {
		sec.AttachReplication(publisher{repl})
	}
}

// publisher adapts the shell to auth.Replication.
type publisher struct{ s *shell.Shell }

func (p publisher) Region() string { return p.s.Self() }

func (p publisher) PublishKeyEvent(payload []byte, done func(error)) {
	p.s.PublishOp(shell.KindAuthEvent, payload, func(_ replicator.Dot, err error) {
		if errors.Is(err, shell.ErrClosed) || errors.Is(err, shell.ErrFailed) || errors.Is(err, replicator.ErrJoining) {
			err = fmt.Errorf("%w: %w", auth.ErrUnavailable, err)
		}
		done(err)
	})
}
