package collections_test

import (
	"testing"

	"github.com/causeway/causeway/bench/geo"
	"github.com/causeway/causeway/internal/testfabric"
)

// startFabric starts one node per region, wired full mesh on loopback.
func startFabric(t *testing.T, regions []string) geo.Fabric {
	t.Helper()
	f := testfabric.New(t, regions, nil)
	f.StartAll()
	var fab geo.Fabric
	for _, r := range regions {
		fab.Regions = append(fab.Regions, geo.Region{Name: r, HTTP: f.Server(r).URL()})
	}
	return fab
}
