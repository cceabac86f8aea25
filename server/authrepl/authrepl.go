// Package authrepl owns the binding between the auth service's fabric-wide
// API keys (broker/auth, replication.go) and the node's replication shell
// (replicator/shell): key events travel as ops of shell.KindAuthEvent.
// broker/auth cannot import the shell (the shell imports the broker, which
// imports auth), so the node's assembly (server) wires the two
// through here: Kinds before the shell starts, Attach once it runs.
package authrepl

import (
	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/replicator/shell"
)

// Kinds returns kinds (shell.Options.Kinds; nil for none) with
// shell.KindAuthEvent added, applied by sec. kinds itself is not changed.
func Kinds(sec *auth.Service, kinds map[shell.Kind]shell.ApplyFunc) map[shell.Kind]shell.ApplyFunc {
	return shell.WithKind(kinds, shell.KindAuthEvent, sec.ApplyReplicated)
}

// Attach makes sec's keys fabric-wide through repl once it runs; a nil
// repl (a single-region node) is a no-op.
func Attach(sec *auth.Service, repl Replication) {
	if repl != nil {
		sec.AttachReplication(publisher{region: repl.Self(), publish: repl.Publisher(shell.KindAuthEvent, auth.ErrUnavailable)})
	}
}

// Replication is the node's replication: a *shell.Shell, or in a region
// of several nodes the *shell.Standby routing to the node running it.
type Replication interface {
	Self() string
	Publisher(kind shell.Kind, unavailable error) func(payload []byte, done func(error))
}

// publisher adapts the shell to auth.Replication.
type publisher struct {
	region  string
	publish func(payload []byte, done func(error))
}

func (p publisher) Region() string { return p.region }

func (p publisher) PublishKeyEvent(payload []byte, done func(error)) { p.publish(payload, done) }
