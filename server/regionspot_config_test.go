package server

import (
	"slices"
	"strings"
	"testing"

	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/region/meta"
	"github.com/causeway/causeway/server/cluster"
	"github.com/causeway/causeway/spot"
)

// TestRegionSpotConfig: the rules that fit a node's SPOT configuration to
// its region of several nodes (regionspot.go).
func TestRegionSpotConfig(t *testing.T) {
	voters := map[region.NodeID]string{1: "h1:7600", 2: "h2:7600", 3: "h3:7600"}
	members := map[uint64]string{1: "h1:7500", 2: "h2:7500", 3: "h3:7500"}
	node := func(id region.NodeID, dataPath bool) *regionRuntime {
		rt := &regionRuntime{cfg: meta.Config{Node: id, Bootstrap: voters,
			Addrs: region.Addrs{Raft: voters[id], Data: "h" + string(rune('0'+id)) + ":7700"}}}
		if dataPath {
			rt.streams = cluster.New()
		}
		return rt
	}
	cases := []struct {
		name         string
		rt           *regionRuntime
		in           spot.Config
		wantReplicas []spot.ReplicaConfig
		wantNodes    bool   // a RegionNodes function
		wantErr      string // a part of the error
	}{
		{name: "a region of one node: as before", rt: nil,
			in:           spot.Config{Replicas: []spot.ReplicaConfig{{ID: 1, RaftAddress: "a:1"}, {ID: 2, RaftAddress: "a:2"}}},
			wantReplicas: []spot.ReplicaConfig{{ID: 1, RaftAddress: "a:1"}, {ID: 2, RaftAddress: "a:2"}}},
		{name: "metadata-only or geo-replicated node: as before", rt: node(2, false),
			in:           spot.Config{Replicas: []spot.ReplicaConfig{{ID: 1, RaftAddress: "a:1"}}},
			wantReplicas: []spot.ReplicaConfig{{ID: 1, RaftAddress: "a:1"}}},
		{name: "forwarding only: as before", rt: node(2, true), in: spot.Config{Regions: map[string][]string{"eu": {"http://e:1"}}}},
		{name: "a member runs its own replica", rt: node(2, true), in: spot.Config{Members: members},
			wantReplicas: []spot.ReplicaConfig{{ID: 2, RaftAddress: "h2:7500"}}, wantNodes: true},
		{name: "its replica given too", rt: node(3, true),
			in:           spot.Config{Members: members, Replicas: []spot.ReplicaConfig{{ID: 3, RaftAddress: "h3:7500"}}},
			wantReplicas: []spot.ReplicaConfig{{ID: 3, RaftAddress: "h3:7500"}}, wantNodes: true},
		{name: "not a member: none, forwards", rt: node(3, true), in: spot.Config{Members: map[uint64]string{1: "h1:7500"}}, wantNodes: true},
		{name: "a joined node cannot check voters", rt: &regionRuntime{cfg: meta.Config{Node: 9}, streams: cluster.New()},
			in: spot.Config{Members: map[uint64]string{7: "h7:7500"}}, wantNodes: true},
		{name: "another node's replica", rt: node(2, true),
			in:      spot.Config{Members: members, Replicas: []spot.ReplicaConfig{{ID: 1, RaftAddress: "h1:7500"}}},
			wantErr: "runs only its own replica"},
		{name: "several replicas on one node", rt: node(1, true),
			in:      spot.Config{Replicas: []spot.ReplicaConfig{{ID: 1, RaftAddress: "a:1"}, {ID: 2, RaftAddress: "a:2"}}},
			wantErr: "runs only its own replica"},
		{name: "not a voter", rt: node(1, true), in: spot.Config{Members: map[uint64]string{1: "h1:7500", 4: "h4:7500"}},
			wantErr: "member 4 is not one of the region's voters"},
		{name: "the metadata group's address", rt: node(1, true), in: spot.Config{Members: map[uint64]string{1: "h1:7500", 2: "h2:7600"}},
			wantErr: "needs its own"},
		{name: "this node's data address", rt: node(1, true), in: spot.Config{Members: map[uint64]string{1: "h1:7700"}},
			wantErr: "needs its own"},
		{name: "six members", rt: &regionRuntime{cfg: meta.Config{Node: 1}, streams: cluster.New()},
			in:      spot.Config{Members: map[uint64]string{1: "a:1", 2: "a:2", 3: "a:3", 4: "a:4", 5: "a:5", 6: "a:6"}},
			wantErr: "at most 5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, nodes, err := tc.rt.spotConfig(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Replicas, tc.wantReplicas) {
				t.Fatalf("replicas %v, want %v", got.Replicas, tc.wantReplicas)
			}
			if (nodes != nil) != tc.wantNodes {
				t.Fatalf("RegionNodes set %v, want %v", nodes != nil, tc.wantNodes)
			}
			if nodes != nil && nodes() != nil {
				t.Fatalf("node URLs %v before the region's group runs", nodes())
			}
		})
	}
}
