package segment

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/causeway/causeway/broker/vfs"
)

const benchRecordBytes = 1024

// BenchmarkAppend appends 1 KiB records, one per Append call, from many
// goroutines with fsync Always on the real disk. Compare its MB/s with
// BenchmarkRawSequentialWrite's from the same run.
func BenchmarkAppend(b *testing.B) {
	for _, appenders := range []int{4, 16, 64} {
		b.Run(fmt.Sprintf("appenders=%d", appenders), func(b *testing.B) {
			l, err := Open(vfs.OS(), b.TempDir(), Options{Fsync: FsyncAlways})
			if err != nil {
				b.Fatal(err)
			}
			r := Record{Payload: make([]byte, benchRecordBytes), Producer: "bench", PublishTime: 1}
			b.SetBytes(benchRecordBytes)
			b.ResetTimer()
			var next atomic.Int64
			var wg sync.WaitGroup
			for g := 0; g < appenders; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					recs := []Record{r}
					for next.Add(1) <= int64(b.N) {
						if _, err := l.Append(recs); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			m := l.Metrics()
			if m.Commits > 0 {
				b.ReportMetric(float64(m.AppendedRecords)/float64(m.Commits), "records/commit")
				b.ReportMetric(float64(m.FsyncLatency.Microseconds())/float64(m.Fsyncs), "µs/fsync")
			}
			if err := l.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkRawSequentialWrite is `dd if=/dev/zero of=F bs=1M count=N
// conv=fdatasync`: N 1 MiB writes, then one fdatasync.
func BenchmarkRawSequentialWrite(b *testing.B) {
	buf := make([]byte, 1<<20)
	name := filepath.Join(b.TempDir(), "raw")
	f, err := vfs.OS().OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil { // fdatasync
		b.Fatal(err)
	}
	b.StopTimer()
	f.Close()
	os.Remove(name)
}

// BenchmarkRead tails a 16 MiB log of 1 KiB records on the real disk,
// reading maxRecords at a time from where the last read stopped.
func BenchmarkRead(b *testing.B) {
	const total = 16 << 10
	l, err := Open(vfs.OS(), b.TempDir(), Options{Fsync: FsyncNever, SegmentMaxBytes: 4 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	recs := make([]Record, 64)
	for i := range recs {
		recs[i] = Record{Payload: make([]byte, benchRecordBytes), Producer: "bench", PublishTime: int64(i)}
	}
	for l.EndOffset() < total {
		if _, err := l.Append(recs); err != nil {
			b.Fatal(err)
		}
	}
	for _, maxRecords := range []int{1, 100} {
		b.Run(fmt.Sprintf("maxRecords=%d", maxRecords), func(b *testing.B) {
			b.SetBytes(int64(maxRecords * benchRecordBytes))
			b.ReportAllocs()
			from := uint64(0)
			for i := 0; i < b.N; i++ {
				got, err := l.Read(from, maxRecords, 1<<20)
				if err != nil || len(got) == 0 {
					b.Fatalf("Read(%d) = %d records, %v", from, len(got), err)
				}
				from = got[len(got)-1].Offset + 1
				if from+uint64(maxRecords) > l.EndOffset() {
					from = 0
				}
			}
		})
	}
}

// BenchmarkAppendPipelined is how producers use the log: 4 producers, each
// keeping up to `window` 1 KiB records in flight with AppendAsync (as a
// WebSocket producer connection does), fsync Always.
func BenchmarkAppendPipelined(b *testing.B) {
	for _, window := range []int{64, 256, 1024} {
		b.Run(fmt.Sprintf("producers=4/window=%d", window), func(b *testing.B) {
			l, err := Open(vfs.OS(), b.TempDir(), Options{Fsync: FsyncAlways})
			if err != nil {
				b.Fatal(err)
			}
			r := Record{Payload: make([]byte, benchRecordBytes), Producer: "bench", PublishTime: 1}
			b.SetBytes(benchRecordBytes)
			b.ResetTimer()
			var next atomic.Int64
			var wg sync.WaitGroup
			for g := 0; g < 4; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					inflight := make(chan struct{}, window)
					var done sync.WaitGroup
					for next.Add(1) <= int64(b.N) {
						inflight <- struct{}{}
						done.Add(1)
						l.AppendAsync([]Record{r}, func(_ uint64, err error) {
							if err != nil {
								b.Error(err)
							}
							<-inflight
							done.Done()
						})
					}
					done.Wait()
				}()
			}
			wg.Wait()
			b.StopTimer()
			m := l.Metrics()
			if m.Commits > 0 {
				b.ReportMetric(float64(m.AppendedRecords)/float64(m.Commits), "records/commit")
			}
			if err := l.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
