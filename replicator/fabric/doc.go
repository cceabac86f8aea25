// Package fabric owns geo-fabric membership: which regions a fabric's data
// may reach, the causal domain a set of regions forms, and the per-region
// state machine that moves a fabric from one region set to another. It is a
// pure core: no I/O, clock or goroutine; the shell feeds it what its
// engines deliver and carries out what it asks for.
//
// # Domains
//
// A fabric's region list is versioned: version 1 when it is created, one
// more on every change. Every replicated op of a fabric carries a Tag
// (fabric, version) and travels in the causal domain of that version's
// region set (DomainKey): one replicator.Engine per region set, whose
// members are exactly that set, so vectors, acks and relays never involve
// a region outside it. Fabrics with the same set share a domain. The
// region lists themselves (Membership) are fabric-wide metadata: they
// travel in the domain of every region (the _system fabric's), ordered
// because only a fabric's home region makes a new version, once it
// applies the previous one. The home stays in every version's list, so a
// region joining a fabric always has a source holding all of its data.
//
// # Moving a fabric
//
// When a region learns version v+1 of fabric F (Router.Learn):
//
//   - if it was a member of v it publishes a cut (F, v+1) into v's domain:
//     every op of F it published under v precedes the cut in its origin's
//     log, and it publishes F's later ops under v+1;
//   - a member of v+1 applies F's ops of v+1 only once v is closed at it:
//     it delivered the cuts of every member of v (so every op of F under v
//     is applied before any under v+1 — per-origin order and causality
//     carry across the change), or, if it was not a member of v, once a
//     member of both versions that closed v sent it F's state (backfill;
//     the shell de-duplicates the overlap by producer sequence ids, and
//     applies the state only once its own engines delivered what the
//     source's had when it took it, so that the ops it publishes next
//     depend on everything the state holds);
//     until then it holds them (Deliver answers Hold, Release hands them
//     back in order);
//   - a member of v that is not in v+1 stops serving F and deletes its
//     data at once, drops F's ops of v that still arrive, and reports the
//     deletion complete when v is closed there (nothing of F can arrive
//     any more; the domain's journals then only hold F's ops below the
//     cuts, trimmed with the rest once stable).
//
// A member of v that never comes back keeps v open (its cut never
// arrives) until an operator evicts it: the same rule as the engine's
// stability.
package fabric
