package query

// Bounds on what a query may ask for.
const (
	// MaxQueryBytes bounds the query text.
	MaxQueryBytes = 64 << 10
	// maxFields bounds the SELECT list, GROUP BY and ORDER BY terms.
	maxFields = 64
	// maxExprNodes bounds the nodes of a WHERE condition.
	maxExprNodes = 4096
	// maxExprDepth bounds the nesting of a WHERE condition.
	maxExprDepth = 128
	// maxInList bounds the values of one IN list.
	maxInList = 10000
	// maxPathDepth bounds the names of an attribute path.
	maxPathDepth = 32
	// maxParams bounds the bind parameters of one query.
	maxParams = 1024
	// DefaultMaxMemoryRows bounds the rows a sort or aggregation holds.
	DefaultMaxMemoryRows = 1_000_000
)
