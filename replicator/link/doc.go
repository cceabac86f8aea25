// Package link owns fault injection for links between regions: a seeded,
// pure Link decides for each message sent at time now whether it is lost and
// when its copies (duplication) arrive, from a latency, a jitter, loss,
// duplication and reordering rates and a partition switch; a Mesh holds the
// directed links between a set of regions and partitions them symmetrically
// or asymmetrically.
//
// It has no goroutines or clocks: the simulator (replicator/sim) queues
// messages at the returned times on its virtual clock, and a real transport
// (causeway dev's emulated WAN) can hold each message until the returned
// time with a timer. Neither type is safe for concurrent use; a real
// transport serializes calls with a mutex.
package link
