// Package engine compiles a stream worker's streaming SQL and runs it
// deterministically over events: no I/O, no goroutines, no wall clock. The
// shell (streamworkers) feeds it events and time, persists its snapshots
// with the consumed positions and writes the rows it returns.
//
// The language is described in LANGUAGE.md.
package engine

import (
	"time"
)

// Catalog says what exists where the worker is defined; Compile uses it to
// refuse unknown streams and collections.
type Catalog interface {
	StreamExists(name string) bool
	CollectionExists(name string) bool
}

// Lookup reads a collection's document by key for a stream-collection join
// (enrichment). found is false when the key has no document.
type Lookup interface {
	Get(collection, key string) (doc []byte, found bool, err error)
}

// OutputKind says where a worker's rows go.
type OutputKind int

const (
	// OutputStream: rows are published to a stream (INSERT INTO stream).
	OutputStream OutputKind = iota
	// OutputCollection: rows are upserted into a collection by key
	// (REPLACE INTO / UPSERT INTO collection).
	OutputCollection
)

// String names the kind.
func (k OutputKind) String() string {
	switch k {
	case OutputStream:
		return "stream"
	case OutputCollection:
		return "collection"
	}
	return "unknown"
}

// Output is the destination of a worker's rows.
type Output struct {
	Kind OutputKind
	Name string
}

// Event is one message of an input stream.
type Event struct {
	Stream string
	// Position is the per-input-stream offset, strictly increasing per stream.
	Position   uint64
	Key        string
	Payload    []byte
	Properties map[string]string
	// Time is the publish time; event time is the query's chosen field,
	// else this.
	Time time.Time
}

// Row is one output row: the key it is written under and a JSON object.
type Row struct {
	Key   string
	Value []byte
}

// EventError is an event the worker could not process (not JSON, a field of
// the wrong type, late beyond the allowed lateness, a limit reached); it goes
// to the worker's error stream and never stops the worker.
type EventError struct {
	Event Event
	Err   error
}

func (e EventError) Error() string {
	return e.Event.Stream + "@" + itoa(e.Event.Position) + ": " + e.Err.Error()
}

// Limits bound a worker's state; reaching one gives errors, never a panic.
// Zero values take the defaults (DefaultMaxStateBytes, DefaultMaxWindows).
type Limits struct {
	MaxStateBytes int64
	MaxWindows    int
}

// Defaults for Limits' zero fields.
const (
	DefaultMaxStateBytes int64 = 64 << 20
	DefaultMaxWindows          = 100_000
)

func (l Limits) withDefaults() Limits {
	if l.MaxStateBytes <= 0 {
		l.MaxStateBytes = DefaultMaxStateBytes
	}
	if l.MaxWindows <= 0 {
		l.MaxWindows = DefaultMaxWindows
	}
	return l
}

func itoa(u uint64) string {
	if u == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for u > 0 {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
	}
	return string(b[i:])
}
