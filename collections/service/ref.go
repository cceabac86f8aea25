package service

// Ref names a collection: tenant, fabric and collection name.
type Ref struct {
	Tenant     string
	Fabric     string
	Collection string
}

// String renders the ref as tenant/fabric/collection.
func (r Ref) String() string { return r.Tenant + "/" + r.Fabric + "/" + r.Collection }

// Stream names of a collection (see the package comment). Collection names
// are at most maxCollectionNameBytes long, so these stay within the broker's
// 128-byte stream names.
const (
	opLogPrefix      = "_col."
	changeFeedPrefix = "_changes."
	// opsProducer names the producer of every op-log message; a record from
	// any other producer is ignored on replay.
	opsProducer = "_collections"
	// changesProducer publishes the change feed; its sequence ids are op-log
	// offsets.
	changesProducer = "_collections"
)

// OpLogStream returns the name of a collection's op-log stream.
func OpLogStream(collection string) string { return opLogPrefix + collection }

// ChangeFeedStream returns the name of a collection's change-feed stream.
func ChangeFeedStream(collection string) string { return changeFeedPrefix + collection }
