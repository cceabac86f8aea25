// Package authrepl owns the binding between the auth service's fabric-wide
// API keys (broker/auth, replication.go) and the node's replication shell
// (replicator/shell): key events travel as ops of shell.KindAuthEvent.
// broker/auth cannot import the shell (the shell imports the broker, which
// imports auth), so the node's assembly (server) wires the two
// through here: Kinds before the shell starts, Attach once it runs.
//
// In a geo-replicated region of several nodes the replication is a
// *shell.Standby running on one node at a time: Attach gives the service
// an auth.RegionReplication, whose events go through the region's map
// (broker/auth regionfabric.go), and an event the map cannot take now is
// shell.ErrApplyLater (the shell applies it again from its journal).
package authrepl

import (
	"errors"
	"fmt"

	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/replicator/shell"
)

// Kinds returns kinds (shell.Options.Kinds; nil for none) with
// shell.KindAuthEvent added, applied by sec. kinds itself is not changed.
func Kinds(sec *auth.Service, kinds map[shell.Kind]shell.ApplyFunc) map[shell.Kind]shell.ApplyFunc {
	return shell.WithKind(kinds, shell.KindAuthEvent, func(origin string, seq uint64, payload []byte) error {
		return applyError(sec.ApplyReplicated(origin, seq, payload))
	})
}

// applyError makes an event the service cannot apply now (ErrUnavailable:
// the region's map has no quorum) one the shell applies again later.
func applyError(err error) error {
	if errors.Is(err, auth.ErrUnavailable) {
		return fmt.Errorf("%w: %w", shell.ErrApplyLater, err)
	}
	return err
}

// Attach makes sec's keys fabric-wide through repl once it runs; a nil
// repl (a single-region node) is a no-op.
func Attach(sec *auth.Service, repl Replication) {
	if repl == nil {
		return
	}
	p := publisher{region: repl.Self(), publish: repl.Publisher(shell.KindAuthEvent, auth.ErrUnavailable)}
	if s, ok := repl.(standby); ok {
		sec.AttachReplication(regionPublisher{publisher: p, standby: s})
		return
	}
	sec.AttachReplication(p)
}

// Replication is the node's replication: a *shell.Shell, or in a region
// of several nodes the *shell.Standby routing to the node running it.
type Replication interface {
	Self() string
	Publisher(kind shell.Kind, unavailable error) func(payload []byte, done func(error))
}

// standby is the replication of a region of several nodes.
type standby interface {
	Active() *shell.Shell
}

// publisher adapts the shell to auth.Replication.
type publisher struct {
	region  string
	publish func(payload []byte, done func(error))
}

func (p publisher) Region() string { return p.region }

func (p publisher) PublishKeyEvent(payload []byte, done func(error)) { p.publish(payload, done) }

// regionPublisher adapts the standby to auth.RegionReplication.
type regionPublisher struct {
	publisher
	standby standby
}

var _ auth.RegionReplication = regionPublisher{}

func (p regionPublisher) Leading() bool { return p.standby.Active() != nil }
