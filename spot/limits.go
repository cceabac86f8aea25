package spot

// Bounds on everything a request, a command or the state machine holds.
const (
	// MaxTxnOps bounds the operations plus preconditions of one transaction.
	MaxTxnOps = 1000
	// MaxTxnBytes bounds one encoded transaction (a request body, a Raft
	// entry).
	MaxTxnBytes = 4 << 20
	// MaxListDocs bounds the documents one list request returns.
	MaxListDocs = 1000
	// maxPathNames bounds an attribute path (the reducer's limit).
	maxPathNames = 32
	// maxPatchDepth is how deep an update merges objects member by member;
	// deeper objects are set whole.
	maxPatchDepth = maxPathNames - 1
	// maxReducerOpsPerTxn bounds the reducer ops one transaction produces
	// (an update makes one per attribute it writes).
	maxReducerOpsPerTxn = 1 << 16
	// seqShift leaves room for maxReducerOpsPerTxn dots below each Raft
	// index: the dots of entry i are (i << seqShift) + 1, + 2, ...
	seqShift = 20
	// dedupWindowEntries is how many Raft entries back a request id is
	// remembered: a retried request within it gets the first answer again.
	dedupWindowEntries = 100_000
	// maxDedupResultBytes bounds the answer kept per request id; a larger
	// one is kept as "applied, answer not kept".
	maxDedupResultBytes = 64 << 10
	// maxRequestIDBytes bounds a client-supplied request id.
	maxRequestIDBytes = 64
	// maxSnapshotKeyBytes and maxSnapshotValueBytes bound one record of a
	// snapshot stream (a document state is at most 64 MiB).
	maxSnapshotKeyBytes   = 4 << 10
	maxSnapshotValueBytes = 65 << 20
	// snapshotBatchBytes is how much a snapshot restore buffers before it
	// commits a batch.
	snapshotBatchBytes = 4 << 20
)
