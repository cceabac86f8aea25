// Package geo owns the `causeway bench geo` scenario: producers publish to
// global streams in one region of a fabric and consumers read them in
// every other region, so the figures are the replication lag per region
// pair (publish in A to delivery in B, HDR histograms) and the delivery
// rate each region keeps up with. Every message must reach every region
// exactly once.
//
// The fabric comes from the fabric.json file `causeway dev` writes (or a
// real fabric's, in the same shape), read by ParseFabric, or from a list
// of region=URL pairs (ParseRegions). The emulated WAN settings found in
// the file are recorded in the report. The workload itself is the pubsub
// one (bench/pubsub.RunFabric) over Causeway's WebSocket API.
//
// All clocks are the bench host's: lag includes the path from the bench
// host to each region, which on one machine is loopback.
package geo
