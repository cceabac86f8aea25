package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/causeway/causeway/spot"
)

// spotFlags configure a node's SPOT service (serve).
type spotFlags struct {
	replicas, members, regions string
}

func (f *spotFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.replicas, "spot-replicas", "", "SPOT replicas this node runs, id=raftAddr,... (e.g. 1=127.0.0.1:7500); empty: SPOT requests are only forwarded; in a region of several nodes leave it out (--spot-members)")
	fs.StringVar(&f.members, "spot-members", "", "every replica of this region's SPOT group, id=raftAddr,... (default: --spot-replicas); in a region of several nodes (--cluster-*) the ids are node ids, up to 5 of the region's voters, the same list on every node: node N runs replica N at its address (one of its own, not --cluster-raft), the others forward")
	fs.StringVar(&f.regions, "spot-regions", "", "HTTP base URLs of other regions' nodes for SPOT forwarding, region=url|url,... (e.g. eu=http://10.0.0.2:8080)")
}

// config returns the SPOT configuration the flags describe (nil when none
// is given: the node serves no SPOT collections).
func (f *spotFlags) config() (*spot.Config, error) {
	if f.replicas == "" && f.members == "" && f.regions == "" {
		return nil, nil
	}
	var c spot.Config
	replicas, err := parseReplicas(f.replicas)
	if err != nil {
		return nil, fmt.Errorf("--spot-replicas: %w", err)
	}
	for id, addr := range replicas {
		c.Replicas = append(c.Replicas, spot.ReplicaConfig{ID: id, RaftAddress: addr})
	}
	if f.members != "" {
		if c.Members, err = parseReplicas(f.members); err != nil {
			return nil, fmt.Errorf("--spot-members: %w", err)
		}
	}
	if f.regions != "" {
		c.Regions = map[string][]string{}
		for _, part := range strings.Split(f.regions, ",") {
			region, urls, ok := strings.Cut(part, "=")
			if !ok || region == "" || urls == "" {
				return nil, fmt.Errorf("--spot-regions: %q: want region=url|url", part)
			}
			c.Regions[region] = strings.Split(urls, "|")
		}
	}
	return &c, nil
}

// parseReplicas reads id=addr,id=addr.
func parseReplicas(s string) (map[uint64]string, error) {
	out := map[uint64]string{}
	if s == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		idText, addr, ok := strings.Cut(part, "=")
		id, err := strconv.ParseUint(idText, 10, 64)
		if !ok || err != nil || id == 0 || addr == "" {
			return nil, fmt.Errorf("%q: want id=host:port with id >= 1", part)
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("replica %d given twice", id)
		}
		out[id] = addr
	}
	return out, nil
}
