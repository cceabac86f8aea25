package engine

import (
	"fmt"
	"strings"
)

// Plan is a compiled query. It is immutable and may be shared by workers.
type Plan struct {
	// Inputs are the streams the worker reads, without repeats, in the
	// order the query names them.
	Inputs []string
	// Output is where the rows go; Name is "" for a bare SELECT (dry run).
	Output Output
	q      *query
}

// CompileError is a query that does not compile. Pos is the byte offset in
// the query text of the offending text (its first occurrence), or -1.
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

// Limits on query text and shape.
const (
	MaxQueryBytes    = 64 << 10
	maxExprNodes     = 2000
	maxFields        = 256
	maxHopWindows    = 100     // windows per event of a HOP window (size/slide)
	maxCountWindow   = 100_000 // n of TUMBLE_COUNT(n)
	maxSlideCount    = 10_000  // n of SLIDE_COUNT(n), kept per group
	maxPendingPerKey = 1000    // pattern starts waiting per key
	maxPathDepth     = 32
)

// mode is the shape of the FROM clause.
type mode uint8

const (
	modeSingle  mode = iota // FROM stream
	modeJoin                // FROM stream a JOIN stream b ON keys AND b.t BETWEEN ...
	modeLookup              // FROM stream a [LEFT] JOIN collection c ON c._key = expr
	modePattern             // FROM stream a JOIN stream b ON [NOT_]FOLLOWED_BY(a, b, 'T') ...
)

// winKind is the window of a GROUP BY.
type winKind uint8

const (
	winNone winKind = iota // continuous: a row per event for its group
	winTumble
	winHop
	winSession
	winTumbleCount
	winSlideCount
)

// source is one FROM item.
type source struct {
	name       string
	alias      string
	collection bool
}

// item is one output field.
type item struct {
	name string
	e    expr
}

type aggFn uint8

const (
	aggCount aggFn = iota // COUNT(*) when arg is nil
	aggSum
	aggAvg
	aggMin
	aggMax
)

var aggNames = map[string]aggFn{"count": aggCount, "sum": aggSum, "avg": aggAvg, "min": aggMin, "max": aggMax}

type aggSpec struct {
	fn  aggFn
	arg expr // nil: COUNT(*)
}

// query is the compiled form of a statement.
type query struct {
	text    string
	inputs  []string // Plan.Inputs
	mode    mode
	sources []source
	where   expr
	star    bool
	items   []item
	keyItem int // index of the item named _key, or -1

	agg        bool
	groupExprs []expr
	aggs       []aggSpec
	having     expr

	win struct {
		kind       winKind
		size, step int64 // ms; step is HOP's slide
		gap        int64 // ms, SESSION
		count      int   // TUMBLE_COUNT / SLIDE_COUNT
		proc       bool  // processing time
		time       expr  // event-time expression of the window
	}

	// Event time per source (nil: publish time) and the watermark settings.
	timeOf   [2]expr
	delay    int64
	lateness int64
	idle     int64 // 0: no idle advance

	// modeJoin: right.time BETWEEN left.time - lower AND left.time + upper.
	joinKeys     [2][]expr
	lower, upper int64

	// modeLookup.
	lookupKey expr
	leftJoin  bool

	// modePattern.
	within    int64
	absent    bool
	patFilter [2]expr // conditions on one side only
	patKeys   [2][]expr
	patCond   expr // conditions on both sides
}

func (q *query) timeKnown() bool { return q.win.kind != winTumbleCount && q.win.kind != winSlideCount }

// sourceLabel names source i (its alias, else its name), for columns and messages.
func (q *query) sourceLabel(i int) string {
	s := q.sources[i]
	if s.alias != "" {
		return s.alias
	}
	return s.name
}

func lower(s string) string { return strings.ToLower(s) }
