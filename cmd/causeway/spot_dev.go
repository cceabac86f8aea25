package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/causeway/causeway/server"
	"github.com/causeway/causeway/spot"
)

// spotDevFlags give every region of a dev fabric a SPOT group: the first
// region (the one SPOT collections are homed in by default in the tour)
// runs three replicas so a replica can be stopped and restarted on one
// machine; the others run one.
type spotDevFlags struct {
	replicas, others, port int
}

func registerSpotDevFlags(fs *flag.FlagSet) *spotDevFlags {
	f := &spotDevFlags{}
	fs.IntVar(&f.replicas, "spot-replicas", 3, "SPOT replicas of the first region's group (1 or more; 3 survives losing one)")
	fs.IntVar(&f.others, "spot-replicas-other", 1, "SPOT replicas of every other region's group (0: those regions only forward)")
	fs.IntVar(&f.port, "spot-port", 7500, "Raft port of the first SPOT replica, the next ones take the next ports (0: ephemeral)")
	return f
}

// configs returns each region's SPOT configuration. Region URLs are set
// once every node listens (connect). With nodes > 1 (one region whose
// nodes all serve it) the group's replicas are spread over the nodes, one
// each on nodes 1 to min(--spot-replicas, nodes): the members are keyed
// by node id and every node gets the same configuration (server runs a
// node's own replica).
func (f *spotDevFlags) configs(host string, regions []string, nodes int) ([]*spot.Config, error) {
	if f.replicas < 1 || f.others < 0 {
		return nil, fmt.Errorf("--spot-replicas %d, --spot-replicas-other %d: want at least 1 and 0", f.replicas, f.others)
	}
	out := make([]*spot.Config, len(regions))
	next := f.port
	if nodes > 1 {
		c := &spot.Config{Members: map[uint64]string{}}
		for id := 1; id <= min(f.replicas, nodes); id++ {
			addr, err := f.raftAddr(host, next)
			if err != nil {
				return nil, err
			}
			next++
			c.Members[uint64(id)] = addr
		}
		for i := range out {
			out[i] = c
		}
		return out, nil
	}
	for i := range regions {
		n := f.others
		if i == 0 {
			n = f.replicas
		}
		c := &spot.Config{}
		for id := 1; id <= n; id++ {
			addr, err := f.raftAddr(host, next)
			if err != nil {
				return nil, err
			}
			next++
			c.Replicas = append(c.Replicas, spot.ReplicaConfig{ID: uint64(id), RaftAddress: addr})
		}
		out[i] = c
	}
	return out, nil
}

func (f *spotDevFlags) raftAddr(host string, port int) (string, error) {
	if f.port != 0 {
		return net.JoinHostPort(host, strconv.Itoa(port)), nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("reserve a SPOT Raft port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// connectSpot tells every region's SPOT service where the others listen.
func connectSpot(servers []*server.Server, regions []string) {
	urls := map[string][]string{}
	for i, s := range servers {
		urls[regions[i]] = []string{s.URL()}
	}
	for _, s := range servers {
		if s.Spot != nil {
			s.Spot.SetRegions(urls)
		}
	}
}

func printSpotHowTo(w io.Writer, ff fabricFile) {
	if len(ff.Regions) < 2 {
		return
	}
	home, away := ff.Regions[0], ff.Regions[1]
	fmt.Fprintf(w, `
SPOT collections (strictly serializable, homed in one region):
  curl -H "Authorization: Bearer $CAUSEWAY_TOKEN" -XPOST %[2]s/_fabric/_system/_api/collection -d '{"name":"accounts","isSpot":true,"homeRegion":"%[1]s"}'
  curl -H "Authorization: Bearer $CAUSEWAY_TOKEN" -XPOST %[3]s/_fabric/_system/_api/transaction -d '{"operations":[
    {"op":"insert","collection":"accounts","key":"a","doc":{"balance":100}},
    {"op":"insert","collection":"accounts","key":"b","doc":{"balance":0}}]}'
  # from %[4]s, forwarded to %[1]s: a transfer guarded by a value precondition
  curl -H "Authorization: Bearer $CAUSEWAY_TOKEN" -XPOST %[3]s/_fabric/_system/_api/transaction -d '{"preconditions":[{"collection":"accounts","key":"a","path":["balance"],"equals":100}],
    "operations":[{"op":"update","collection":"accounts","key":"a","doc":{"balance":{"$inc":-30}}},
                  {"op":"update","collection":"accounts","key":"b","doc":{"balance":{"$inc":30}}}]}'
  # the group's replicas; stop one: writes go on; start it again
  curl -H "Authorization: Bearer $CAUSEWAY_TOKEN" %[2]s/_api/spot/replicas
  curl -H "Authorization: Bearer $CAUSEWAY_TOKEN" -XPOST %[2]s/_api/spot/replicas/1/stop
  curl -H "Authorization: Bearer $CAUSEWAY_TOKEN" -XPATCH %[3]s/_fabric/_system/_api/document/accounts/b -d '{"balance":{"$inc":1}}'
  curl -H "Authorization: Bearer $CAUSEWAY_TOKEN" -XPOST %[2]s/_api/spot/replicas/1/start
`, home.Name, home.HTTP, away.HTTP, away.Name)
}
