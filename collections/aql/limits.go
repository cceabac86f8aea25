package aql

// Bounds on what a query may ask for.
const (
	// MaxQueryBytes bounds the query text.
	MaxQueryBytes = 64 << 10
	// maxExprNodes bounds the expression nodes of a query.
	maxExprNodes = 16384
	// maxExprDepth bounds the nesting of expressions.
	maxExprDepth = 128
	// maxSubqueryDepth bounds the nesting of subqueries.
	maxSubqueryDepth = 16
	// maxParams bounds the bind parameters of one query.
	maxParams = 1024
	// DefaultMaxMemoryRows bounds the rows a SORT, COLLECT, subquery or
	// collection read as a value holds in memory.
	DefaultMaxMemoryRows = 1_000_000
	// writeChunk is how many rows a data-modification statement hands to
	// the writer at once.
	writeChunk = 1000
	// checkEvery is how many loop iterations pass between calls of
	// Options.Check.
	checkEvery = 1024
)
