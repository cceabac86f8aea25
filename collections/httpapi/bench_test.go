package httpapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/causeway/causeway/collections/service"
)

// benchDocs sizes BenchmarkQuery's collection: go test -bench Query -docs 1000000.
var benchDocs = flag.Int("docs", 10_000, "documents in BenchmarkQuery's collection")

// latencies collects request latencies and reports p50/p99.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	at := func(q float64) float64 { return float64(l.d[int(q*float64(len(l.d)-1))].Microseconds()) }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// benchClient is an HTTP client with enough idle connections for the
// parallel benchmarks.
var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

func send(b *testing.B, method, url string, body []byte, want int) time.Duration {
	start := time.Now()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	resp, err := benchClient.Do(req)
	if err != nil {
		b.Error(err)
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != want {
		b.Errorf("%s %s: status %d", method, url, resp.StatusCode)
	}
	return time.Since(start)
}

// parallel runs b.N calls of op spread over clients goroutines and
// reports the latency percentiles.
func parallel(b *testing.B, clients int, op func(i int64, r *rand.Rand) time.Duration) {
	var next atomic.Int64
	var lat latencies
	var wg sync.WaitGroup
	b.ResetTimer()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(rand.Uint64(), 1))
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				lat.add(op(i, r))
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	lat.report(b)
}

// BenchmarkHTTPPointWrite inserts one small document per request, from 1
// and from 32 concurrent clients (fsync always: concurrent writes share
// group commits).
func BenchmarkHTTPPointWrite(b *testing.B) {
	for _, clients := range []int{1, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			n := startNode(b)
			n.createCollection("bench", nil)
			url := n.url + sys + "document/bench"
			parallel(b, clients, func(i int64, _ *rand.Rand) time.Duration {
				body := fmt.Appendf(nil, `{"_key":"k%d","name":"user %d","score":%d,"tags":["a","b"]}`, i, i, i%1000)
				return send(b, "POST", url, body, http.StatusCreated)
			})
		})
	}
}

// BenchmarkHTTPPointRead reads random documents of 10,000, from 1 and from
// 32 concurrent clients.
func BenchmarkHTTPPointRead(b *testing.B) {
	n := startNode(b)
	loadBench(b, n, 10_000)
	base := n.url + sys + "document/bench/"
	for _, clients := range []int{1, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			parallel(b, clients, func(_ int64, r *rand.Rand) time.Duration {
				return send(b, "GET", base+fmt.Sprintf("d%07d", r.IntN(10_000)), nil, http.StatusOK)
			})
		})
	}
}

// loadBench writes count documents through the service in batches.
func loadBench(b *testing.B, n *node, count int) {
	b.Helper()
	n.createCollection("bench", nil)
	const batch = 1000
	for start := 0; start < count; start += batch {
		ws := make([]service.Write, 0, batch)
		for i := start; i < min(start+batch, count); i++ {
			ws = append(ws, service.Write{Kind: service.Insert, Key: fmt.Sprintf("d%07d", i), Doc: map[string]any{
				"score": json.Number(fmt.Sprint((i * 7919) % count)), "group": fmt.Sprintf("g%02d", i%50), "name": fmt.Sprintf("name %d", i),
			}})
		}
		res, err := n.svc.Write(n.ref("bench"), ws)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
}

// BenchmarkQuery runs a selective query (0.1% of the documents) over
// -docs documents, first with a full scan, then with an index on the
// filtered path.
func BenchmarkQuery(b *testing.B) {
	n := startNode(b)
	count := *benchDocs
	start := time.Now()
	loadBench(b, n, count)
	b.Logf("loaded %d documents in %s", count, time.Since(start).Round(time.Millisecond))
	lo := count / 2
	body, _ := json.Marshal(map[string]any{
		"query":    "SELECT _key, score FROM bench WHERE score >= @lo AND score < @hi ORDER BY score",
		"bindVars": map[string]any{"lo": lo, "hi": lo + max(count/1000, 1)},
	})
	run := func(b *testing.B, wantAccess string) {
		r := n.do("POST", sys+"cursor", body).must(b, http.StatusCreated)
		if a := r.body["extra"].(map[string]any)["plan"].(map[string]any)["access"]; a != wantAccess {
			b.Fatalf("plan access %v, want %s", a, wantAccess)
		}
		if got := len(r.body["result"].([]any)); got != max(count/1000, 1) {
			b.Fatalf("%d rows", got)
		}
		var lat latencies
		b.ResetTimer()
		for b.Loop() {
			lat.add(send(b, "POST", n.url+sys+"cursor", body, http.StatusCreated))
		}
		b.StopTimer()
		lat.report(b)
	}
	b.Run(fmt.Sprintf("docs=%d/full-scan", count), func(b *testing.B) { run(b, "full-scan") })
	n.do("POST", sys+"index?collection=bench", map[string]any{"type": "persistent", "fields": []any{"score"}}).must(b, http.StatusCreated)
	b.Run(fmt.Sprintf("docs=%d/indexed", count), func(b *testing.B) { run(b, "index-range") })
}
