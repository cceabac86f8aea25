// Package kafkarepl owns the binding between the Kafka front end's
// fabric-wide topic metadata (broker/kafka, topicmeta.go) and the node's
// replication shell (replicator/shell): topic events travel as ops of
// shell.KindTopicMeta. broker/kafka cannot import the shell (the shell
// imports the broker), so the node's assembly (server) wires the two
// through here: Kinds before the shell starts, Attach once it runs.
package kafkarepl

import (
	"github.com/causeway/causeway/broker/kafka"
	"github.com/causeway/causeway/replicator/shell"
)

// Kinds returns kinds (shell.Options.Kinds; nil for none) with
// shell.KindTopicMeta added, applied by meta. kinds itself is not changed.
func Kinds(meta *kafka.TopicMeta, kinds map[shell.Kind]shell.ApplyFunc) map[shell.Kind]shell.ApplyFunc {
	return shell.WithKind(kinds, shell.KindTopicMeta, meta.ApplyReplicated)
}

// Attach makes meta's topics fabric-wide through repl once it runs; a nil
// repl (a single-region node) is a no-op.
func Attach(meta *kafka.TopicMeta, repl Replication) {
	if repl != nil {
		meta.AttachReplication(publisher{region: repl.Self(), publish: repl.Publisher(shell.KindTopicMeta, kafka.ErrTopicMetaUnavailable)})
	}
}

// Replication is the node's replication: a *shell.Shell, or in a region
// of several nodes the *shell.Standby routing to the node running it.
type Replication interface {
	Self() string
	Publisher(kind shell.Kind, unavailable error) func(payload []byte, done func(error))
}

// publisher adapts the shell to kafka.TopicReplication.
type publisher struct {
	region  string
	publish func(payload []byte, done func(error))
}

func (p publisher) Region() string { return p.region }

func (p publisher) PublishTopicEvent(payload []byte, done func(error)) { p.publish(payload, done) }
