// Package collections owns the `causeway bench collections` scenario:
// concurrent writers in every region of a fabric (or on one node) run a mix
// of document inserts, patches (counter increments), point reads and
// queries over the HTTP API (/_fabric/{fabric}/_api/document/{collection},
// /cursor), at a fixed or maximum rate; latencies per operation (and per
// region), then the convergence time after the run: how long until every
// region holds every inserted document and every increment.
//
// The operation mix (mix.go) and the convergence check (converged) are
// pure; run.go and http.go are the shell.
package collections
