package kafka

import (
	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
)

// A group's committed offsets are the subscriptions named after it on the
// fabric's streams, so a group outlives its members (and this node's
// memory): with no member it is Empty, described and listed as such, until
// DeleteGroups removes its subscriptions.

// storedGroups returns the names of the subscriptions on the fabric's
// persistent client streams: the groups with committed offsets. In a
// region of several nodes a group's offsets are not subscriptions: none
// (regionGroups lists them, regionoffsets.go).
func (s *Server) storedGroups() map[string]bool {
	out := map[string]bool{}
	if s.cluster != nil {
		return out
	}
	for _, st := range s.clientStreams() {
		for name := range st.SubscriptionStats() {
			out[name] = true
		}
	}
	return out
}

// groupStreams returns the fabric's streams holding a subscription named
// group.
func (s *Server) groupStreams(group string) []*broker.Stream {
	var out []*broker.Stream
	for _, st := range s.clientStreams() {
		if _, ok := st.SubscriptionStats()[group]; ok {
			out = append(out, st)
		}
	}
	return out
}

// clientStreams lists the fabric's persistent streams clients may use (not
// a collection's op log or change feed).
func (s *Server) clientStreams() []*broker.Stream {
	var out []*broker.Stream
	for _, st := range s.node.Streams(s.cfg.Tenant, s.cfg.Fabric) {
		if name := st.Name(); name.Persistent && naming.CheckClientWrite(name.Name) == nil {
			out = append(out, st)
		}
	}
	return out
}
