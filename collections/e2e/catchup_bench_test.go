package e2e

import (
	"flag"
	"net/http"
	"strconv"
	"testing"
	"time"
)

var (
	benchCatchUpOps   = flag.Int("catchup-ops", 20_000, "PATCHes written while a region is cut off (BenchmarkCatchUp)")
	benchCatchUpFsync = flag.String("catchup-fsync", "always", "the nodes' fsync policy in BenchmarkCatchUp (always, interval, never)")
)

// catchUpDocs and catchUpRequestPatches shape BenchmarkCatchUp's writes:
// the documents the PATCHes spread over, and the PATCHes per request.
const (
	catchUpDocs           = 1000
	catchUpRequestPatches = 500
)

// BenchmarkCatchUp cuts eu-west off from a three-region fabric, writes
// -catchup-ops PATCHes (one attribute each, so one op each) in us-east,
// waits until ap-south has them all (so us-east shipped them), heals, and
// measures how fast eu-west applies them: from the heal until it holds the
// last write (a region's ops are delivered in order). The nodes fsync as
// -catchup-fsync says (default always, the node's default). Run it with
// -benchtime 1x (each iteration writes its own collection).
func BenchmarkCatchUp(b *testing.B) {
	const us, eu, ap = "us-east", "eu-west", "ap-south"
	f := newFabric(b, three, three...)
	for _, r := range three {
		cfg := f.Configs[r]
		cfg.Fsync = *benchCatchUpFsync
		f.Configs[r] = cfg
		f.Start(r)
	}
	n := *benchCatchUpOps
	var total time.Duration
	for iter := range b.N {
		b.StopTimer()
		col := "catchup" + strconv.Itoa(iter)
		f.must(http.StatusOK, us, "POST", sys+"collection", map[string]any{"name": col})
		var batch []any
		for i := range catchUpDocs {
			batch = append(batch, map[string]any{"_key": "d" + strconv.Itoa(i), "v": -1})
		}
		f.must(http.StatusCreated, us, "POST", sys+"document/"+col, batch)
		f.eventually(eu+" has the documents", func() bool {
			a := f.do(eu, "GET", sys+"collection/"+col+"/count", nil)
			return a.status == http.StatusOK && a.body["count"] == float64(catchUpDocs)
		})
		f.Cut(eu, us, true)
		f.Cut(eu, ap, true)
		batch = batch[:0]
		for i := range n {
			batch = append(batch, map[string]any{"_key": "d" + strconv.Itoa(i%catchUpDocs), "v": i})
			if len(batch) == catchUpRequestPatches || i == n-1 {
				f.must(http.StatusCreated, us, "PATCH", sys+"document/"+col, batch)
				batch = batch[:0]
			}
		}
		f.must(http.StatusCreated, us, "POST", sys+"document/"+col, map[string]any{"_key": "end"})
		f.eventually(ap+" has the last write", func() bool { return f.do(ap, "GET", sys+"document/"+col+"/end", nil).status == http.StatusOK })
		b.StartTimer()
		healed := time.Now()
		f.Cut(eu, us, false)
		f.Cut(eu, ap, false)
		f.eventually(eu+" has the last write", func() bool { return f.do(eu, "GET", sys+"document/"+col+"/end", nil).status == http.StatusOK })
		took := time.Since(healed)
		b.StopTimer()
		total += took
		for i := n - catchUpDocs; i < n; i++ {
			if i < 0 {
				continue
			}
			if d := f.doc(eu, col, "d"+strconv.Itoa(i%catchUpDocs)); d["v"] != float64(i) {
				b.Fatalf("%s: d%d = %v, want v %d", eu, i%catchUpDocs, d, i)
			}
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "ops/s")
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "catchup-ms")
}
