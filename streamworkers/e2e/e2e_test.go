package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/internal/testfabric"
	"github.com/causeway/causeway/streamworkers"
)

const waitTimeout = 60 * time.Second

func do(t testing.TB, base, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var m map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v: %s", waitTimeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func publish(t testing.TB, node *broker.Node, producer string, payloads []string) {
	t.Helper()
	st, err := node.StreamForUse(naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric, Name: "orders"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.AttachProducer(producer, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	msgs := make([]broker.Message, len(payloads))
	for i, pl := range payloads {
		msgs[i] = broker.Message{Payload: []byte(pl), SequenceID: -1}
	}
	for _, r := range p.Publish(msgs) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
}

// A worker defined once, in one region, runs in every region of the
// fabric over that region's copy of a global stream, and its aggregate,
// upserted into a collection, converges to the same exact totals in both
// regions.
func TestWorkerDefinedOnceRunsInEveryRegion(t *testing.T) {
	regions := []string{"us-east", "eu-west"}
	f := testfabric.New(t, regions, nil)
	f.StartAll()
	us, eu := f.Server("us-east"), f.Server("eu-west")
	const sys = "/_fabric/_system/_api"
	if code, ans := do(t, us.URL(), "POST", sys+"/collection", map[string]any{"name": "totals"}); code/100 != 2 {
		t.Fatalf("create collection: %d %v", code, ans)
	}
	const n = 400
	payload := func(id int) string {
		return fmt.Sprintf(`{"id":%d,"user":"u%d","amount":%d}`, id, id%9, id%4+1)
	}
	var first, second []string
	for id := 0; id < n; id++ {
		if id%2 == 0 {
			first = append(first, payload(id))
		} else {
			second = append(second, payload(id))
		}
	}
	publish(t, us.Node, "us-producer", first[:n/4])
	eventually(t, "the stream and collection in eu-west", func() bool {
		code, _ := do(t, eu.URL(), "GET", sys+"/collection/totals", nil)
		_, err := eu.Node.Stream(naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric, Name: "orders"})
		return code == 200 && err == nil
	})
	active := true
	code, ans := do(t, us.URL(), "POST", sys+"/streamapps", streamworkers.Input{Name: "totals-by-user", IsActive: &active,
		Query: "REPLACE INTO totals SELECT user AS _key, COUNT(*) AS n, SUM(amount) AS s FROM orders GROUP BY user"})
	if code != 201 {
		t.Fatalf("create worker: %d %v", code, ans)
	}
	publish(t, us.Node, "us-producer", first[n/4:])
	publish(t, eu.Node, "eu-producer", second)

	want := map[string][2]int{}
	for id := 0; id < n; id++ {
		u := fmt.Sprintf("u%d", id%9)
		w := want[u]
		want[u] = [2]int{w[0] + 1, w[1] + id%4 + 1}
	}
	start := time.Now()
	for _, r := range regions {
		// The definition reached the region and its worker runs there,
		// over every message, and has written every row.
		base := f.Server(r).URL()
		var stats map[string]any
		eventually(t, "the worker running in "+r+" over every message", func() bool {
			code, ans := do(t, base, "GET", sys+"/streamapps/totals-by-user", nil)
			apps, _ := ans["streamApps"].([]any)
			if code != 200 || len(apps) != 1 {
				return false
			}
			stats, _ = apps[0].(map[string]any)["stats"].(map[string]any)
			return stats != nil && stats["region"] == r && stats["eventsIn"].(float64) == n && stats["pendingRows"].(float64) == 0
		})
		t.Logf("%s: worker stats %v", r, stats)
	}
	// Both regions' writes converge on the exact totals everywhere.
	for _, r := range regions {
		base := f.Server(r).URL()
		eventually(t, "exact totals in "+r, func() bool {
			for u, w := range want {
				code, d := do(t, base, "GET", sys+"/document/totals/"+u, nil)
				if code != 200 || fmt.Sprint(d["n"]) != fmt.Sprint(w[0]) || fmt.Sprint(d["s"]) != fmt.Sprint(w[1]) {
					return false
				}
			}
			return true
		})
	}
	t.Logf("both regions exact %v after the last publish", time.Since(start))
}
