// Package broker owns a Causeway node: the registry of tenants, fabrics and
// streams, publishing into persistent (segment log) and non-persistent
// (memory fan-out) streams, and the wiring of subscriptions to streams.
//
// The segment log lives in broker/segment, the filesystem seam in
// broker/vfs, and each network front end in its own sub-package
// (broker/ws for Pulsar's WebSocket API, broker/httpapi for HTTP admin).
package broker
