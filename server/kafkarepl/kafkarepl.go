// Package kafkarepl owns the binding between the Kafka front end's
// fabric-wide topic metadata (broker/kafka, topicmeta.go) and the node's
// replication shell (replicator/shell): topic events travel as ops of
// shell.KindTopicMeta. broker/kafka cannot import the shell (the shell
// imports the broker), so the node's assembly (server) wires the two
// through here: Kinds before the shell starts, Attach once it runs.
package kafkarepl

import (
	"errors"
	"fmt"
	"maps"

	"github.com/causeway/causeway/broker/kafka"
	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/shell"
)

// Kinds returns kinds (shell.Options.Kinds; nil for none) with the topic
// metadata kind added, applied by meta, so that the journal tails the shell
// re-applies on start reach it. kinds itself is not changed.
func Kinds(meta *kafka.TopicMeta, kinds map[shell.Kind]shell.ApplyFunc) map[shell.Kind]shell.ApplyFunc {
	out := maps.Clone(kinds)
	if out == nil {
		out = map[shell.Kind]shell.ApplyFunc{}
	}
	out[shell.KindTopicMeta] = meta.ApplyReplicated
	return out
}

// Attach makes meta's topics fabric-wide through repl once it runs; a nil
// repl (a single-region node) is a no-op.
func Attach(meta *kafka.TopicMeta, repl *shell.Shell) {
	if repl != nil {
		meta.AttachReplication(publisher{repl})
	}
}

// publisher adapts the shell to kafka.TopicReplication.
type publisher struct{ s *shell.Shell }

func (p publisher) Region() string { return p.s.Self() }

func (p publisher) PublishTopicEvent(payload []byte, done func(error)) {
	p.s.PublishOp(shell.KindTopicMeta, payload, func(_ replicator.Dot, err error) {
		if errors.Is(err, shell.ErrClosed) || errors.Is(err, shell.ErrFailed) || errors.Is(err, replicator.ErrJoining) {
			err = fmt.Errorf("%w: %w", kafka.ErrTopicMetaUnavailable, err)
		}
		done(err)
	})
}
