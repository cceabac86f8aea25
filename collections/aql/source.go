package aql

import (
	"time"

	"github.com/causeway/causeway/collections/query"
)

// DocIter yields documents (JSON objects with _key, _id and _rev). The
// bytes may be reused after the next call.
type DocIter interface {
	Next() (doc []byte, ok bool, err error)
	Close() error
}

// Source is the caller's access to collections: the shell reads them from
// one snapshot of the store.
type Source interface {
	// Indexes lists a collection's secondary indexes; it fails for a
	// collection that does not exist.
	Indexes(collection string) ([]query.Index, error)
	// Scan yields a collection's documents along an access path, from the
	// query's snapshot.
	Scan(collection string, a query.Access) (DocIter, error)
	// ScanLatest is Scan over the newest state (UPSERT looks up what the
	// query itself may have written).
	ScanLatest(collection string, a query.Access) (DocIter, error)
}

// WriteKind is what an Intent does.
type WriteKind uint8

const (
	WriteInsert WriteKind = iota + 1
	WriteUpdate
	WriteReplace
	WriteRemove
)

var writeNames = [...]string{WriteInsert: "insert", WriteUpdate: "update", WriteReplace: "replace", WriteRemove: "remove"}

func (k WriteKind) String() string { return writeNames[k] }

// Overwrite is what an insert of an existing key does (overwriteMode).
type Overwrite uint8

const (
	OverwriteConflict Overwrite = iota
	OverwriteReplace
	OverwriteUpdate
	OverwriteIgnore
)

// Intent is one document write a query asks for. The caller performs it
// through the collection's normal write path.
type Intent struct {
	Kind WriteKind
	// Key is the document key ("" for an insert: the caller generates one).
	Key string
	// Doc is the document (insert, replace) or patch (update) without
	// _key, _id and _rev; numbers are json.Number.
	Doc map[string]any
	// IfRev, when set, must be the document's current _rev (ignoreRevs
	// false and a _rev in the document).
	IfRev        string
	Overwrite    Overwrite
	KeepNull     bool
	MergeObjects bool
}

// Outcome is the result of one Intent: the key and revision written, the
// document before and after (JSON, nil when there is none), or the error
// that refused it (nothing of it was written).
type Outcome struct {
	Key, Rev string
	Old, New []byte
	Err      error
}

// Writer performs intents in order, the later ones seeing the earlier
// ones. The returned error fails the whole query; per-intent refusals are
// in the outcomes.
type Writer interface {
	Write(collection string, intents []Intent, ignoreErrors bool) ([]Outcome, error)
}

// Options are what a query runs with.
type Options struct {
	// Params are the bind parameters (decoded JSON); @@name collection
	// parameters are under "@name", as in ArangoDB's bindVars.
	Params map[string]any
	Source Source
	// Writer performs data modifications (nil: a query that writes fails).
	Writer Writer
	// Now is what DATE_NOW() answers (the caller's clock, read once).
	Now time.Time
	// Seed seeds RAND(); the same seed gives the same numbers.
	Seed uint64
	// MaxMemoryRows bounds the rows held in memory (0: DefaultMaxMemoryRows).
	MaxMemoryRows int
	// FullCount counts the rows the last top-level LIMIT dropped.
	FullCount bool
	// Check, when set, is called every few thousand loop iterations; its
	// error stops the query (the shell's time limit).
	Check func() error
}
