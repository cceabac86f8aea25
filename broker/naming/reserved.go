package naming

import (
	"fmt"
	"strings"
)

// Reserved streams. A collection (collections/service) owns two streams of
// its fabric: its op log "_col.{collection}" and its change feed
// "_changes.{collection}". Every stream whose name starts with one of these
// prefixes, in either domain, is reserved: clients may read it (change
// feeds are documented as streams) but never publish to it nor delete it;
// only the node's own services do, through the broker's internal entry
// points.
const (
	OpLogPrefix      = "_col."
	ChangeFeedPrefix = "_changes."
)

// ErrReserved reports a client write to (or deletion of) a reserved
// stream. It wraps ErrInvalidName, so Kafka clients see
// INVALID_TOPIC_EXCEPTION, as Kafka answers a produce to its own internal
// topics; HTTP and WebSocket front ends answer 403.
var ErrReserved = fmt.Errorf("%w: reserved stream", ErrInvalidName)

// Reserved reports whether stream name is reserved for the node's own
// writers.
func Reserved(name string) bool {
	return strings.HasPrefix(name, OpLogPrefix) || strings.HasPrefix(name, ChangeFeedPrefix)
}

// CheckClientWrite returns an ErrReserved error when a client may not
// publish to or delete stream name, and nil when it may.
func CheckClientWrite(name string) error {
	if c, ok := strings.CutPrefix(name, OpLogPrefix); ok {
		return fmt.Errorf("%w: %s is the op log of collection %q, written only by the collection (use the collections API)", ErrReserved, name, c)
	}
	if c, ok := strings.CutPrefix(name, ChangeFeedPrefix); ok {
		return fmt.Errorf("%w: %s is the change feed of collection %q: subscribe to it or read it; only the collection writes it, and it is deleted by dropping the collection", ErrReserved, name, c)
	}
	return nil
}
