// Package spot will own SPOT collections: strictly serializable collections
// whose operations go through one dragonboat Raft group pinned to a home
// region, with forwarding from other regions and multi-operation
// transactions. Nothing is implemented yet; see the SPOT issue.
package spot
