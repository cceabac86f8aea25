package engine

import (
	"errors"
	"fmt"
	"time"
)

// Plan is a compiled query. It is immutable and may be shared by workers.
type Plan struct {
	// Inputs are the streams the worker reads, in the order they appear.
	Inputs []string
	// Output is where the rows go.
	Output Output
	q      *query
}

// CompileError is a query that does not compile: Pos is the byte offset in
// the query text the problem is found at (-1 when unknown).
type CompileError struct {
	Pos int
	Msg string
}

func (e *CompileError) Error() string {
	if e.Pos < 0 {
		return "streamworkers: " + e.Msg
	}
	return fmt.Sprintf("streamworkers: at offset %d: %s", e.Pos, e.Msg)
}

// Worker runs a plan over events. It is not safe for concurrent use.
type Worker struct {
	p   *Plan
	lk  Lookup
	lim Limits
	st  *state
}

// errNotBuilt is returned until the engine is complete.
var errNotBuilt = errors.New("streamworkers: engine not built yet")

type query struct{}
type state struct{}

// Compile parses and plans a query against the catalog.
func Compile(query string, cat Catalog) (*Plan, error) {
	return nil, &CompileError{Pos: -1, Msg: errNotBuilt.Error()}
}

// NewWorker starts a worker from a snapshot (nil: fresh state).
func (p *Plan) NewWorker(state []byte, lk Lookup, lim Limits) (*Worker, error) {
	return nil, errNotBuilt
}

// Process feeds one event and returns the rows it completes and the errors.
func (w *Worker) Process(ev Event) ([]Row, []EventError) { return nil, nil }

// Advance moves processing time to now: processing-time windows, idle
// watermarks and pattern timeouts fire.
func (w *Worker) Advance(now time.Time) []Row { return nil }

// Snapshot returns everything needed to continue exactly where it was.
func (w *Worker) Snapshot() ([]byte, error) { return nil, errNotBuilt }

// StateBytes is the size of the worker's state.
func (w *Worker) StateBytes() int64 { return 0 }
