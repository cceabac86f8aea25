package collections

// Bounds on everything an op or a document state may hold. They keep a
// malformed or hostile input from costing unbounded memory or recursion.
const (
	// maxOpBytes bounds one encoded op.
	maxOpBytes = 4 << 20
	// maxValueBytes bounds the JSON value an op carries.
	maxValueBytes = 2 << 20
	// maxValueDepth bounds the nesting of arrays and objects in a value.
	maxValueDepth = 64
	// maxPathDepth bounds the number of names in an attribute path.
	maxPathDepth = 32
	// maxNameBytes bounds one attribute name.
	maxNameBytes = 256
	// maxKeyBytes bounds a document key (ArangoDB's limit).
	maxKeyBytes = 254
	// maxCollectionBytes bounds a collection name.
	maxCollectionBytes = 256
	// maxRegionBytes bounds a region name.
	maxRegionBytes = 64
	// maxVectorRegions bounds the entries of a version vector.
	maxVectorRegions = 1024
	// maxStateBytes bounds one encoded document state.
	maxStateBytes = 64 << 20
)
