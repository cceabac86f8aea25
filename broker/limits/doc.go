// Package limits owns the bounds a node puts on its clients that are not
// tied to one front end: connections per client address (a listener
// wrapper), connections per key (a counter), request rates per key (token
// buckets, golang.org/x/time/rate), and the configuration of those and of
// the query bounds the collections service reads. Each refusal is counted
// in Metrics. Time comes in as an argument: nothing here reads a clock or
// starts a goroutine.
package limits
