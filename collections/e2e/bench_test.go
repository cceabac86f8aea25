package e2e

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

var (
	benchWriters = flag.Int("writers", 8, "concurrent writers per region (BenchmarkConvergence) or clients (BenchmarkPoint)")
	benchDocs    = flag.Int("docs", 100, "documents the writers share")
)

// client is a keep-alive HTTP client for benchmarks (no testing.T).
var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

func benchDo(method, url string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	resp, err := benchClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// BenchmarkConvergence partitions three regions, lets -writers writers per
// region patch -docs shared documents (b.N writes each: attributes of
// their own, a shared one, and a counter), heals, and reports how long
// the regions take to hold identical documents.
func BenchmarkConvergence(b *testing.B) {
	f := newFabric(b, three)
	f.must(http.StatusOK, "us-east", "POST", sys+"collection", map[string]any{"name": "shared"})
	var batch []any
	for i := range *benchDocs {
		batch = append(batch, map[string]any{"_key": "d" + strconv.Itoa(i)})
	}
	f.do("us-east", "POST", sys+"document/shared", batch)
	for _, r := range three {
		f.eventually(r+" has the documents", func() bool {
			a := f.do(r, "GET", sys+"collection/shared/count", nil)
			return a.status == http.StatusOK && a.body["count"] == float64(*benchDocs)
		})
	}
	f.Partition(true)
	b.ResetTimer()
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for _, r := range three {
		url := f.Server(r).URL() + sys + "document/shared/"
		for w := range *benchWriters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range b.N {
					key := "d" + strconv.Itoa((i*7+w)%*benchDocs)
					body := map[string]any{r + "-" + strconv.Itoa(w): i, "shared": r + strconv.Itoa(i), "n": map[string]any{"$inc": 1}}
					if st, raw, err := benchDo("PATCH", url+key, body); err != nil || st != http.StatusCreated {
						select {
						case errs <- fmt.Errorf("%s: %d %s %v", r, st, raw, err):
						default:
						}
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	b.StopTimer()
	healed := time.Now()
	f.Partition(false)
	f.eventually("convergence", func() bool {
		var first []string
		for _, r := range three {
			var revs []string
			for i := range *benchDocs {
				d := f.doc(r, "shared", "d"+strconv.Itoa(i))
				revs = append(revs, fmt.Sprint(d["_rev"]))
			}
			if first == nil {
				first = revs
			} else if !slices.Equal(first, revs) {
				return false
			}
		}
		return true
	})
	took := time.Since(healed)
	total := 0
	for i := range *benchDocs {
		d := f.doc("us-east", "shared", "d"+strconv.Itoa(i))
		n, _ := d["n"].(float64)
		total += int(n)
	}
	if want := 3 * *benchWriters * b.N; total != want {
		b.Fatalf("counters add up to %d, want %d", total, want)
	}
	b.ReportMetric(float64(took.Milliseconds()), "converge-ms")
	b.ReportMetric(float64(3**benchWriters*b.N), "writes")
}

// BenchmarkPoint measures HTTP point writes and reads in one region of a
// three-region fabric with -writers concurrent clients, reporting p50 and
// p99 latencies.
func BenchmarkPoint(b *testing.B) {
	f := newFabric(b, three)
	f.must(http.StatusOK, "us-east", "POST", sys+"collection", map[string]any{"name": "points"})
	url := f.Server("us-east").URL() + sys + "document/points"
	run := func(b *testing.B, op func(i int) error) {
		lat := make([][]time.Duration, *benchWriters)
		var wg sync.WaitGroup
		b.ResetTimer()
		start := time.Now()
		for w := range *benchWriters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < b.N; i += *benchWriters {
					t0 := time.Now()
					if err := op(i); err != nil {
						b.Error(err)
						return
					}
					lat[w] = append(lat[w], time.Since(t0))
				}
			}()
		}
		wg.Wait()
		el := time.Since(start)
		b.StopTimer()
		all := slices.Concat(lat...)
		slices.Sort(all)
		if len(all) == 0 {
			return
		}
		b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
		b.ReportMetric(float64(len(all))/el.Seconds(), "ops/s")
	}
	b.Run("write", func(b *testing.B) {
		run(b, func(i int) error {
			st, raw, err := benchDo("POST", url, map[string]any{"_key": "w" + strconv.Itoa(i), "name": "x", "n": i})
			if err == nil && st != http.StatusCreated && st != http.StatusConflict {
				err = fmt.Errorf("insert: %d %s", st, raw)
			}
			return err
		})
	})
	var batch []any
	for i := range 10_000 {
		batch = append(batch, map[string]any{"_key": "r" + strconv.Itoa(i), "n": i})
		if len(batch) == 1000 {
			f.do("us-east", "POST", sys+"document/points", batch)
			batch = nil
		}
	}
	b.Run("read", func(b *testing.B) {
		run(b, func(i int) error {
			st, raw, err := benchDo("GET", url+"/r"+strconv.Itoa(i%10_000), nil)
			if err == nil && st != http.StatusOK {
				err = fmt.Errorf("read: %d %s", st, raw)
			}
			return err
		})
	})
}
