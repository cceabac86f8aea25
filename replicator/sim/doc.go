// Package sim owns the deterministic simulation of a Causeway fabric's
// replication: N regions, each a replicator.Engine with an in-memory shell
// (journals per origin, publishing clients with producers, a dedup table),
// exchanging authenticated wire batches and acks over a link.Mesh that
// loses, duplicates, reorders, delays, corrupts and partitions messages
// (symmetrically and asymmetrically), while regions crash and restart from
// their journals, and lose their disk: a wiped region restarts empty,
// joins, gets back every op any other region holds (its own included) and
// numbers new ops after them; the ops no other region delivered go to a
// limbo: no longer expected, but revived if a copy another region received
// and had not delivered yet (buffered) is delivered after all, and
// superseded when the region numbers a new op the same (a later delivery
// of the old one is then reported). One seeded PRNG and a virtual clock drive everything, so a
// seed replays a run exactly.
//
// Checkers run on every delivery (no dot delivered twice, per-origin FIFO,
// causal order against an oracle of each op's true dependencies, the
// dependency metadata each region rebuilds matches the oracle, per-producer
// order and no (producer, sequence id) delivered twice, bodies intact), on
// stability (nothing reported stable that some region lacks, or lacked
// before it lost its disk), and at the
// end after healing (nothing lost: every region delivered every op; the
// regions converge).
package sim
