package main

import (
	"fmt"

	"github.com/causeway/causeway/server"
	"github.com/causeway/causeway/spot"
)

// devSpotConfigs returns each region's SPOT configuration for a dev fabric
// whose regions are several nodes each, geo-replicated: each region's
// group is spread over its own nodes, one replica each on nodes 1 to
// min(--spot-replicas, nodes) in the first region and
// min(--spot-replicas-other, nodes) in the others (none: the region only
// forwards). Members are keyed by node id and every node of a region gets
// the same configuration (the server runs a node's own replica); Raft
// ports follow each other from --spot-port across the regions. Other
// regions' URLs are set once every node listens (connectSpotNodes).
func devSpotConfigs(f *spotDevFlags, host string, regions []string, nodes int) ([]*spot.Config, error) {
	if f.replicas < 1 || f.others < 0 {
		return nil, fmt.Errorf("--spot-replicas %d, --spot-replicas-other %d: want at least 1 and 0", f.replicas, f.others)
	}
	out := make([]*spot.Config, len(regions))
	next := f.port
	for i := range regions {
		n := f.others
		if i == 0 {
			n = f.replicas
		}
		c := &spot.Config{}
		for id := 1; id <= min(n, nodes); id++ {
			addr, err := f.raftAddr(host, next)
			if err != nil {
				return nil, err
			}
			next++
			if c.Members == nil {
				c.Members = map[uint64]string{}
			}
			c.Members[uint64(id)] = addr
		}
		out[i] = c
	}
	return out, nil
}

// connectSpotNodes tells every node's SPOT service where every other
// region's nodes listen (byRegion[i] is region i's nodes): a request
// forwarded to a region tries its nodes in turn.
func connectSpotNodes(byRegion [][]*server.Server, regions []string) {
	urls := map[string][]string{}
	for i, nodes := range byRegion {
		for _, s := range nodes {
			urls[regions[i]] = append(urls[regions[i]], s.URL())
		}
	}
	for _, nodes := range byRegion {
		for _, s := range nodes {
			if s.Spot != nil {
				s.Spot.SetRegions(urls)
			}
		}
	}
}
