// Package streamworkers is the shell around the stream-worker engine
// (streamworkers/engine, a pure query engine): named, versioned worker
// definitions of a fabric, kept in the fabric's system collection
// _streamapps so that they replicate to every region and converge like
// any collection (definitions.go); the runner that runs a region's active
// workers (runner.go, worker.go); their checkpoints in the node's Pebble
// store (checkpoint.go); where outputs go (sink.go); metrics (metrics.go);
// and the HTTP API under /_fabric/{fabric}/_api/streamapps (http.go,
// dryrun.go).
//
// # Exactly-once effect per region
//
// A worker reads its input streams from the positions of its checkpoint,
// feeds the engine, and commits in ONE synced Pebble batch the positions
// it consumed, the engine's snapshot and the output rows that processing
// made, each numbered by the worker's output sequence. Only then does it
// send them: to a stream with the worker's producer name and the row's
// sequence id (the broker drops a sequence id it already stored for that
// producer), to a collection as an upsert of the row's key (writing the
// same document again changes nothing). A sent row is deleted from the
// pending set. After a crash the worker reloads the checkpoint, resends
// every pending row, and goes on from the positions: nothing is lost,
// nothing applied twice.
//
// # Where a worker runs
//
// Every region runs a definition that is active and not pinned to other
// regions, over that region's copy of its input streams. In a region of
// several nodes it runs on the node that serves the fabric's _streamapps
// collection (the node leading its op log; in a geo-replicated region,
// the node running the region's replication, which leads every global
// stream too), so one node of a region runs a given worker.
package streamworkers
