// Package sim owns the deterministic simulation of geo-fabrics: several
// fabrics over different sets of the same regions, each region running one
// replicator.Engine per causal domain it belongs to (fabric.DomainKey of a
// fabric version's list) and the real fabric.Router, over a link.Mesh that
// loses, duplicates, reorders, delays and partitions messages, while
// regions crash and restart from their journals and fabrics' region lists
// change (a region added, one removed) under load.
//
// Every op of a fabric carries its tag (fabric, version); list versions
// travel as metadata ops in the domain of every region, published by the
// fabric's home region; a member of a version publishes its cut into the
// previous version's domain when it learns the next; a region that joins a
// fabric gets its state from a member (backfill, its own message over the
// mesh) and de-duplicates the overlap by producer sequence ids, as streams
// do.
//
// Checkers: no op of a fabric is sent (batches, relays included), journaled
// or delivered at a region outside its version's list, and a backfill only
// goes to a member; every op is published into its version's domain and
// every cut into its previous version's; the router never sees an op of a
// version it closed; each region applies each producer's ops of a fabric
// exactly once and in order (contiguous sequence ids), and only after
// everything the publisher had applied (causality across list changes);
// after healing every member of a fabric's latest list applies its latest
// version with every op ever acknowledged, nothing held and no backfill
// pending, and every region outside it holds nothing of the fabric and has
// completed its deletion; a final scan of every journal finds no op of a
// fabric at a region outside the op's list. One seeded PRNG and a virtual
// clock drive everything, so a seed replays a run exactly.
//
// Not modelled here (the replicator's own simulator covers them for one
// domain): lost disks, regions of several nodes, corrupted messages.
package sim
