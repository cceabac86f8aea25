package main

// fabricNode is one node of a region in fabric.json, when the region has
// several (causeway dev --nodes, or a hand-written description).
type fabricNode struct {
	ID uint64 `json:"id"`
	// HTTP is the node's HTTP API base URL; WS its WebSocket API's.
	HTTP string `json:"http"`
	WS   string `json:"ws,omitempty"`
	// Kafka is its Kafka listener ("" when off).
	Kafka string `json:"kafka,omitempty"`
	// Repl is its replication listener ("" without geo-replication): in
	// a region of several nodes only the node running the region's
	// replication listens on it.
	Repl string `json:"repl,omitempty"`
	// Raft is its listener for the region's metadata group; DataAddr the
	// address it will ship stream data between the region's nodes on.
	Raft     string `json:"raft,omitempty"`
	DataAddr string `json:"dataAddr,omitempty"`
	// Data is its data directory.
	Data string `json:"data,omitempty"`
	// MetadataOnly nodes take part in the region's metadata group only:
	// they serve no streams, collections, keys or SPOT
	// (server.RegionOptions.MetadataOnly; causeway dev no longer runs
	// such nodes: every node of its regions serves).
	MetadataOnly bool `json:"metadataOnly,omitempty"`
}

// nodes are the region's nodes: its nodes list, or, in the single-node
// form (no list, as every fabric.json before regions of many nodes), one
// node described by the region's own fields.
func (r fabricRegion) nodes() []fabricNode {
	if len(r.Nodes) > 0 {
		return r.Nodes
	}
	return []fabricNode{{ID: 1, HTTP: r.HTTP, WS: r.WS, Kafka: r.Kafka, Data: r.Data}}
}
