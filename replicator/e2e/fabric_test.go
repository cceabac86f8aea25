package e2e

import (
	"fmt"
	"sync"
	"testing"
)

var threeRegions = []string{"us-east", "eu-west", "ap-south"}

// TestPublishEverywhereConsumeEverywhere publishes from two producers in
// every region and checks that every region's stream, and a consumer in
// every region, holds every message exactly once in per-producer order.
func TestPublishEverywhereConsumeEverywhere(t *testing.T) {
	f := newFabric(t, threeRegions, nil)
	const n = 300
	want := map[string][2]int{}
	var wg sync.WaitGroup
	for _, r := range threeRegions {
		for i := range 2 {
			p := fmt.Sprintf("%s-p%d", r, i)
			want[p] = [2]int{0, n}
			wg.Add(1)
			go func() {
				defer wg.Done()
				f.publish(r, "orders", p, 0, n)
			}()
		}
	}
	wg.Wait()
	total := 6 * n
	f.waitCount("orders", total)
	for _, r := range threeRegions {
		checkExactlyOnce(t, r, f.records(r, "orders"), want)
		checkExactlyOnce(t, r, f.consumeAll(r, "orders", "sub-"+r, total), want)
	}
}
