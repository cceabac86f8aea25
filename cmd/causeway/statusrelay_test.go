package main

import (
	"testing"

	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/shell"
)

func TestRouteOf(t *testing.T) {
	status := func(region string, delivered replicator.Vector, peers map[string]replicator.Vector) shell.Status {
		st := shell.Status{Region: region, Delivered: delivered}
		for p, adv := range peers {
			st.Peers = append(st.Peers, shell.PeerStatus{Peer: p, Advertised: adv})
		}
		return st
	}
	cases := []struct {
		name string
		all  []shell.Status
		want route
	}{
		{"direct, caught up", []shell.Status{
			status("a", replicator.Vector{"a": 10}, map[string]replicator.Vector{"b": {"a": 10}}),
		}, route{}},
		{"direct, behind", []shell.Status{
			status("a", replicator.Vector{"a": 10}, map[string]replicator.Vector{"b": {"a": 7}}),
		}, route{lagOps: 3}},
		{"cut a-b, c relays and b has everything", []shell.Status{
			status("a", replicator.Vector{"a": 10}, map[string]replicator.Vector{"b": {"a": 9}, "c": {"a": 10}}),
			status("c", replicator.Vector{"a": 10}, map[string]replicator.Vector{"b": {"a": 10}, "a": {"a": 10}}),
		}, route{via: "c"}},
		{"cut a-b, c relays and b is behind", []shell.Status{
			status("a", replicator.Vector{"a": 20}, map[string]replicator.Vector{"b": {"a": 9}}),
			status("c", replicator.Vector{"a": 18}, map[string]replicator.Vector{"b": {"a": 15}}),
		}, route{lagOps: 5, via: "c"}},
		{"the peer's own view does not count", []shell.Status{
			status("a", replicator.Vector{"a": 10}, map[string]replicator.Vector{"b": {"a": 4}}),
			status("b", replicator.Vector{"a": 10}, map[string]replicator.Vector{"b": {"a": 10}}),
		}, route{lagOps: 6}},
		{"a tie keeps the direct view", []shell.Status{
			status("a", replicator.Vector{"a": 10}, map[string]replicator.Vector{"b": {"a": 8}}),
			status("c", replicator.Vector{"a": 10}, map[string]replicator.Vector{"b": {"a": 8}}),
		}, route{lagOps: 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := routeOf(c.all, "a", "b"); got != c.want {
				t.Fatalf("routeOf = %+v, want %+v", got, c.want)
			}
		})
	}
}
