package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arangodb/go-driver/v2/arangodb"
)

// BenchmarkDriverPoint compares point reads (GET by key of 10,000
// documents) and point writes (insert of one small document) through the
// official Go driver with those through plain net/http, both with a JWT
// from /_open/auth against one node with authentication on, from 1 and
// from 32 clients:
//
//	go test ./collections/httpapi/ -run XXX -bench DriverPoint -benchtime 5s
func BenchmarkDriverPoint(b *testing.B) {
	n := startAuthNode(b)
	ctx := context.Background()
	jwt := n.login(b)
	auth := func(req *http.Request) { req.Header.Set("Authorization", "bearer "+jwt) }
	call := func(method, path, body string, want int) time.Duration {
		start := time.Now()
		req, _ := http.NewRequest(method, n.url+path, strings.NewReader(body))
		auth(req)
		resp, err := benchClient.Do(req)
		if err != nil {
			b.Error(err)
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			b.Errorf("%s %s: status %d", method, path, resp.StatusCode)
		}
		return time.Since(start)
	}
	call("POST", "/_api/collection", `{"name":"bench"}`, http.StatusOK)
	var lines bytes.Buffer
	for i := range 10_000 {
		fmt.Fprintf(&lines, `{"_key":"d%07d","name":"user %d","score":%d,"tags":["a","b"]}`+"\n", i, i, i%1000)
	}
	call("POST", "/_api/import?collection=bench&type=documents&complete=true", lines.String(), http.StatusCreated)
	col, err := driverClient(n.url, "root", n.admin, true).GetDatabase(ctx, "_system", nil)
	if err != nil {
		b.Fatal(err)
	}
	bench, err := col.GetCollection(ctx, "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	type doc struct {
		Key   string   `json:"_key"`
		Name  string   `json:"name"`
		Score int      `json:"score"`
		Tags  []string `json:"tags"`
	}
	var keys atomic.Int64 // write keys, unique across runs of a sub-benchmark
	for _, clients := range []int{1, 32} {
		run := func(name string, op func(i int64, r *rand.Rand) time.Duration) {
			b.Run(fmt.Sprintf("%s/clients=%d", name, clients), func(b *testing.B) {
				parallel(b, clients, op)
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
			})
		}
		run("read/driver", func(_ int64, r *rand.Rand) time.Duration {
			start := time.Now()
			var d doc
			if _, err := bench.ReadDocument(ctx, fmt.Sprintf("d%07d", r.IntN(10_000)), &d); err != nil {
				b.Error(err)
			}
			return time.Since(start)
		})
		run("read/http", func(_ int64, r *rand.Rand) time.Duration {
			return call("GET", fmt.Sprintf("/_api/document/bench/d%07d", r.IntN(10_000)), "", http.StatusOK)
		})
		run("write/driver", func(int64, *rand.Rand) time.Duration {
			start := time.Now()
			if _, err := bench.CreateDocument(ctx, arangodb.DocumentMeta{Key: fmt.Sprintf("w%d", keys.Add(1))}); err != nil {
				b.Error(err)
			}
			return time.Since(start)
		})
		run("write/http", func(int64, *rand.Rand) time.Duration {
			return call("POST", "/_api/document/bench", fmt.Sprintf(`{"_key":"w%d"}`, keys.Add(1)), http.StatusCreated)
		})
	}
}

// login gets a JWT for the admin key from /_open/auth.
func (n *authNode) login(t testing.TB) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": "root", "password": n.admin})
	resp, err := http.Post(n.url+"/_open/auth", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		JWT string `json:"jwt"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.JWT == "" {
		t.Fatalf("login: %d %v", resp.StatusCode, err)
	}
	return out.JWT
}
