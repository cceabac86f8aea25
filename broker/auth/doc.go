// Package auth owns who may do what on a node: principals (a tenant, a
// superuser flag and grants of read, write or admin on the tenant, a fabric,
// a stream or a collection), API keys (random, shown once, stored as their
// SHA-256), HS256 JSON Web Tokens with an enforced expiry, the map from an
// HTTP or WebSocket request to the resource and action it needs, per-key
// request rates, and the audit log of admin actions.
//
// The cores (permission.go, principal.go, apikey.go, jwt.go, route.go,
// requests.go, scram.go, scramserver.go, event.go, merge.go) are pure: no
// I/O, clocks or logging; time and randomness come in as arguments. The
// shells around them are the key store (store.go, storeapply.go, over a
// small KV the node's metadata store provides), the HTTP gate every request
// passes (gate.go), the key and token endpoints (endpoints.go), the audit
// logger (audit.go), the registry of live connections (sessions.go): the
// WebSocket and Kafka front ends register each authenticated connection,
// and revoking its key, or the expiry of its token or key, closes it; the
// replication of keys between regions (replication.go); the keys of a
// region of several nodes (regionkeys.go, storeregion.go, over the pure
// regionview.go); and both at once (regionfabric.go, over the pure
// regionfabricview.go).
//
// # Answers
//
// A request without valid credentials gets 401. A request for another
// tenant's data gets 404 "not found" whatever exists there, so no name of
// another tenant ever leaks, not even whether it exists. A request inside
// the principal's tenant without the needed grant gets 403. Every decision
// is taken from the credential and the path alone, before any lookup, so
// the answer never depends on whether a resource exists.
//
// # Fabric-wide keys
//
// Keys live in each node's metadata store. In a multi-region node
// (AttachReplication; server/authrepl wires the replication shell)
// every key created over the API, every grant change of such a key and
// every revocation is a key event (event.go) that the replication applies
// in every region, this one included, in causal order (replication.go),
// by pure merge rules (merge.go): idempotent by key id, a revocation is a
// permanent tombstone, concurrent grant changes go to the higher (HLC,
// region) stamp. The bootstrap or configured admin key and keys created
// while the node ran alone stay this node's (a revocation of one is still
// sent everywhere). The token secret may be shared by every region, and a
// token issued from a key another region never knew verifies on its
// signature, while a token of a revoked key is refused.
//
// # Region-wide keys
//
// In a region of several nodes that serve its streams (AttachRegion;
// server wires the region's metadata group) every node accepts the same
// keys and tokens: key changes are written to the region's replicated
// key-value map, every node reads them back when the map's auth version
// changes and closes the connections of keys revoked there, and the token
// secret is derived from the region secret (UseRegion). A node's own keys
// (its configured or generated admin key) are handed to the region once
// its group runs; until then they are the only keys it accepts.
//
// # Both: a geo-replicated region of several nodes
//
// When the replication attached is a RegionReplication (it runs on one
// node of the region at a time, the runner) and the region's map is
// attached too, keys created over the API are fabric-wide and
// region-wide (regionfabric.go): any node writes its key event to the
// map's outbox; the runner journals it through the replication, which
// applies it in every region; in this region ApplyReplicated writes each
// event applied as its own map entry, and every node reads the keys from
// the map. A key event journaled but not applied when the runner stops
// is applied by the next runner from its journal tail, and an outbox
// entry not yet journaled is journaled by it: applying twice changes
// nothing.
package auth
