// Package store owns the materialized view of collections in Pebble: the
// replicated state of every document (collections.Doc, with everything the
// reducer needs), collection and index metadata, secondary index entries,
// the expiry index of key/value collections, each collection's applied
// vector and op-log position, and saved queries.
//
// Every existing document is kept twice: its replicated state (what the
// reducer needs) and its rendered JSON, so reads and scans never decode
// states.
//
// It is a thin shell over one Pebble database: it knows nothing of streams,
// HTTP or clocks (callers pass "now"). Writes go through a Batch that keeps
// index and expiry entries in step with the document states it writes, and
// that commits without fsync: the op log is the durable record, and the
// service re-applies its tail after a crash.
//
// # Keys
//
//	c tenant 0 fabric 0 name         collection metadata (JSON)
//	n                                next collection id
//	d id key                         document state (collections.Doc binary)
//	j id key                         the visible document: expiry, _rev, JSON
//	x id index value key -> key      secondary index entry (value: query.AppendKey)
//	e id expiresAt key               expiry index (Unix ms, big-endian)
//	v id                             applied vector and highest HLC (JSON)
//	p id                             op-log position the change feed is durable to
//	q tenant 0 fabric 0 name         saved query (JSON)
//	s id                             op-log position the replicator has the own ops below
//	r                                highest replicator seq applied per origin (JSON)
//	b                                bootstrap state (snapshot loading or loaded, JSON)
//	o id                             op-log position the collection started at
//
// id is the collection's 8-byte big-endian number, allocated once, so a
// dropped collection's data is a few range deletions and a new collection
// of the same name starts empty. Names never contain 0x00.
package store
