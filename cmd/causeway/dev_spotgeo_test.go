package main

import (
	"fmt"
	"testing"
)

// TestDevSpotConfigsGeoNodes: in a dev fabric of geo-replicated regions of
// several nodes each region's SPOT group is spread over its own first
// nodes, keyed by node id, on Raft ports that follow each other across
// the regions; --spot-replicas-other 0 leaves the other regions
// forwarding only.
func TestDevSpotConfigsGeoNodes(t *testing.T) {
	cs, err := devSpotConfigs(&spotDevFlags{replicas: 3, others: 2, port: 7500}, "127.0.0.1", []string{"us", "eu", "ap"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"map[1:127.0.0.1:7500 2:127.0.0.1:7501 3:127.0.0.1:7502]",
		"map[1:127.0.0.1:7503 2:127.0.0.1:7504]",
		"map[1:127.0.0.1:7505 2:127.0.0.1:7506]",
	}
	for i, c := range cs {
		if got := fmt.Sprint(c.Members); got != want[i] || len(c.Replicas) != 0 {
			t.Fatalf("region %d: members %s replicas %v, want %s and none (the server picks the node's own)", i, got, c.Replicas, want[i])
		}
	}
	// More replicas than nodes: one per node.
	cs, err = devSpotConfigs(&spotDevFlags{replicas: 5, others: 0, port: 7500}, "h", []string{"us", "eu"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs[0].Members) != 2 || cs[1] == nil || cs[1].Members != nil {
		t.Fatalf("members %v and %v, want 2 and none (eu forwards)", cs[0].Members, cs[1])
	}
	for _, f := range []spotDevFlags{{replicas: 0, others: 1}, {replicas: 1, others: -1}} {
		if _, err := devSpotConfigs(&f, "h", []string{"us", "eu"}, 3); err == nil {
			t.Fatalf("%+v accepted", f)
		}
	}
}
