package collections_test

import (
	"context"
	"testing"

	"go.uber.org/zap"

	"github.com/causeway/causeway/bench/geo"
	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/server"
	"github.com/causeway/causeway/internal/testnet"
)

// startFabric starts one node per region, wired full mesh on loopback.
func startFabric(t *testing.T, regions []string) geo.Fabric {
	t.Helper()
	addrs := testnet.FreeAddrs(t, len(regions))
	var fab geo.Fabric
	for i, r := range regions {
		peers := map[string]string{}
		for j, p := range regions {
			if p != r {
				peers[p] = addrs[j]
			}
		}
		srv, err := server.Start(broker.Config{
			Region: r, DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", ReplAddr: addrs[i], Peers: peers,
			FabricSecret: "bench-test-fabric-secret", Fsync: "never",
		}, zap.NewNop())
		if err != nil {
			t.Fatalf("start %s: %v", r, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			_ = srv.Shutdown(ctx)
		})
		fab.Regions = append(fab.Regions, geo.Region{Name: r, HTTP: srv.URL()})
	}
	return fab
}
