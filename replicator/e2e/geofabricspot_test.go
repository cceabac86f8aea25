package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/causeway/causeway/internal/testnet"
	"github.com/causeway/causeway/server"
	"github.com/causeway/causeway/spot"
)

// TestPinnedFabricSpot: SPOT collections of a fabric pinned to a and b
// are homed in one of them (another home is refused), serve both, and
// nothing of them reaches c; a list change that would drop a SPOT
// collection's home region is refused and changes nothing; c, once added,
// serves them too.
func TestPinnedFabricSpot(t *testing.T) {
	regions := []string{"a", "b", "c"}
	f := newFabric(t, regions, nil, regions...)
	for _, r := range []string{"a", "b"} {
		f.Options[r] = server.Options{Spot: &spot.Config{Replicas: []spot.ReplicaConfig{{ID: 1, RaftAddress: testnet.FreeAddr(t)}},
			RTTMillisecond: 5, ElectionRTT: 20, HeartbeatRTT: 2}}
	}
	f.Options["c"] = server.Options{Spot: &spot.Config{}}
	f.StartAll()
	urls := map[string][]string{}
	for _, r := range regions {
		urls[r] = []string{f.Server(r).URL()}
	}
	for _, r := range regions {
		others := map[string][]string{}
		for _, o := range regions {
			if o != r {
				others[o] = urls[o]
			}
		}
		f.Server(r).Spot.SetRegions(others)
	}
	if code, body := f.httpDo("a", "POST", "/_fabric/eu/_api/fabric", `{"regions":["a","b"]}`); code != http.StatusCreated {
		t.Fatalf("create eu: %d %s", code, body)
	}
	waitEUState(t, f, "b", "known", func(st fabricState) bool { return st.Applying == 1 })
	retry := func(region, method, path, body string, want int) string {
		t.Helper()
		deadline := time.Now().Add(waitTimeout)
		for {
			code, out := f.httpDo(region, method, path, body)
			if code == want {
				return out
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s %s at %s: %d %s, want %d", method, path, region, code, out, want)
			}
			time.Sleep(pollInterval)
		}
	}
	api := "/_fabric/eu/_api/"
	if code, body := f.httpDo("b", "POST", api+"collection", `{"name":"elsewhere","isSpot":true,"homeRegion":"c"}`); code != http.StatusBadRequest ||
		!strings.Contains(body, "served in a, b only") {
		t.Fatalf("SPOT collection of eu homed in c: %d %s, want 400", code, body)
	}
	retry("b", "POST", api+"collection", `{"name":"ledger","isSpot":true,"homeRegion":"a"}`, http.StatusOK)
	retry("b", "POST", api+"collection", `{"name":"bledger","isSpot":true,"homeRegion":"b"}`, http.StatusOK)
	marker := fmt.Sprintf("EU-SPOT-%x", time.Now().UnixNano()*7919)
	for i := range 5 {
		retry("a", "POST", api+"document/ledger", fmt.Sprintf(`{"_key":"k%d","v":"%s-%d"}`, i, marker, i), http.StatusCreated)
	}
	if out := retry("b", "GET", api+"document/ledger/k3", "", http.StatusOK); !strings.Contains(out, marker+"-3") {
		t.Fatalf("b reads ledger/k3: %s", out)
	}
	if code, body := f.httpDo("c", "GET", api+"document/ledger/k3", ""); code != http.StatusMisdirectedRequest {
		t.Fatalf("c reads eu's SPOT collection: %d %s, want 421", code, body)
	}
	// b homes bledger: a list without b is refused, and nothing changes.
	if code, body := f.httpDo("a", "PUT", api+"fabric", `{"regions":["a"]}`); code != http.StatusBadRequest || !strings.Contains(body, "SPOT") {
		t.Fatalf("dropping bledger's home: %d %s, want 400", code, body)
	}
	if st := euState(t, f, "a"); st.Version != 1 {
		t.Fatalf("after a refused change: %+v", st)
	}
	time.Sleep(500 * time.Millisecond) // the change feeds' publishes
	if found := dirHolds(t, f.Configs["c"].DataDir, []byte(marker)); len(found) > 0 {
		t.Fatalf("c, outside eu, holds its SPOT data in %v", found)
	}
	// c added: it serves eu's SPOT collections too.
	if code, body := f.httpDo("a", "PUT", api+"fabric", `{"regions":["a","b","c"]}`); code != http.StatusOK {
		t.Fatalf("add c: %d %s", code, body)
	}
	waitEUState(t, f, "c", "applies version 2", func(st fabricState) bool { return st.Applying == 2 })
	if out := retry("c", "GET", api+"document/ledger/k4", "", http.StatusOK); !strings.Contains(out, marker+"-4") {
		t.Fatalf("c reads ledger/k4: %s", out)
	}
	retry("c", "POST", api+"document/ledger", fmt.Sprintf(`{"_key":"fromc","v":"%s-c"}`, marker), http.StatusCreated)
	if out := retry("b", "GET", api+"document/ledger/fromc", "", http.StatusOK); !strings.Contains(out, marker+"-c") {
		t.Fatalf("b reads ledger/fromc: %s", out)
	}
	// c runs no SPOT group, so it homes nothing: removing it is a change
	// like any other.
	if code, body := f.httpDo("a", "PUT", api+"fabric", `{"regions":["a","b"]}`); code != http.StatusOK {
		t.Fatalf("remove c: %d %s", code, body)
	}
	waitEUState(t, f, "c", "deleted", func(st fabricState) bool { return slices.Contains(st.Deleted, 3) })
}
