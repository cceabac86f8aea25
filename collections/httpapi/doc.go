// Package httpapi is the HTTP front end of collections, following the REST
// conventions of Macrometa GDN and ArangoDB so their users feel at home:
// collections, documents (one or batches, _rev and If-Match
// preconditions), key/value entries with expiry, queries with cursors,
// explain, secondary indexes, saved queries (restql) and document
// conflicts, all under /_fabric/{fabric}/_api/ (the broker's handler strips
// an optional /_tenant/{tenant} prefix and passes the tenant in a header it
// sets itself).
//
// Errors use ArangoDB's envelope:
//
//	{"error":true,"code":404,"errorNum":1202,"errorMessage":"..."}
//
// with the status and error number chosen in errors.go. Request bodies are
// bounded, decoded in one pass (decode.go, fuzzed) and validated before
// anything is written.
package httpapi
