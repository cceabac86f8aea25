package main

import (
	"reflect"
	"testing"
)

func TestSpotFlags(t *testing.T) {
	cases := []struct {
		name                       string
		replicas, members, regions string
		wantErr                    bool
		wantNil                    bool
		wantReplicas, wantMembers  int
		wantRegions                map[string][]string
	}{
		{name: "none", wantNil: true},
		{name: "one replica", replicas: "1=127.0.0.1:7500", wantReplicas: 1},
		{name: "members", replicas: "2=h:2", members: "1=h:1,2=h:2,3=h:3", wantReplicas: 1, wantMembers: 3},
		{name: "forward only", regions: "us=http://a:1|http://b:2,eu=http://c:3",
			wantRegions: map[string][]string{"us": {"http://a:1", "http://b:2"}, "eu": {"http://c:3"}}},
		{name: "id zero", replicas: "0=h:1", wantErr: true},
		{name: "no address", replicas: "1=", wantErr: true},
		{name: "duplicate", members: "1=h:1,1=h:2", wantErr: true},
		{name: "bad region", regions: "us", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := spotFlags{replicas: tc.replicas, members: tc.members, regions: tc.regions}
			c, err := f.config()
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if (c == nil) != tc.wantNil {
				t.Fatalf("config %+v, want nil %v", c, tc.wantNil)
			}
			if c == nil {
				return
			}
			if len(c.Replicas) != tc.wantReplicas || len(c.Members) != tc.wantMembers {
				t.Fatalf("replicas %v members %v", c.Replicas, c.Members)
			}
			if tc.wantRegions != nil && !reflect.DeepEqual(c.Regions, tc.wantRegions) {
				t.Fatalf("regions %v", c.Regions)
			}
		})
	}
}

func TestSpotDevConfigs(t *testing.T) {
	f := spotDevFlags{replicas: 3, others: 1, port: 7600}
	cs, err := f.configs("127.0.0.1", []string{"us", "eu", "ap"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs[0].Replicas) != 3 || len(cs[1].Replicas) != 1 || len(cs[2].Replicas) != 1 {
		t.Fatalf("replicas per region %d %d %d", len(cs[0].Replicas), len(cs[1].Replicas), len(cs[2].Replicas))
	}
	if cs[0].Replicas[2].RaftAddress != "127.0.0.1:7602" || cs[2].Replicas[0].RaftAddress != "127.0.0.1:7604" {
		t.Fatalf("ports %+v %+v", cs[0].Replicas, cs[2].Replicas)
	}
	if _, err := (&spotDevFlags{replicas: 0}).configs("h", []string{"us"}, 1); err == nil {
		t.Fatal("0 replicas accepted")
	}
	// One region of several nodes: one replica on each of the first nodes,
	// members keyed by node id, the same configuration for every node.
	for _, tc := range []struct {
		replicas, nodes int
		want            map[uint64]string
	}{
		{3, 3, map[uint64]string{1: "127.0.0.1:7500", 2: "127.0.0.1:7501", 3: "127.0.0.1:7502"}},
		{3, 5, map[uint64]string{1: "127.0.0.1:7500", 2: "127.0.0.1:7501", 3: "127.0.0.1:7502"}},
		{3, 2, map[uint64]string{1: "127.0.0.1:7500", 2: "127.0.0.1:7501"}},
		{1, 3, map[uint64]string{1: "127.0.0.1:7500"}},
	} {
		cs, err := (&spotDevFlags{replicas: tc.replicas, port: 7500}).configs("127.0.0.1", []string{"us"}, tc.nodes)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 || len(cs[0].Replicas) != 0 || !reflect.DeepEqual(cs[0].Members, tc.want) {
			t.Fatalf("--spot-replicas %d, %d nodes: %+v, want members %v", tc.replicas, tc.nodes, cs[0], tc.want)
		}
	}
}
