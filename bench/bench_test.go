package bench

import (
	"testing"
	"time"
)

// BenchmarkRecorderLatency measures what recording one latency costs the
// load generator (one per acknowledged or delivered message), with every
// goroutine recording into one recorder as the scenarios do.
func BenchmarkRecorderLatency(b *testing.B) {
	start := time.Now()
	r := NewRecorder(start, 0, time.Second)
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			done := start.Add(time.Duration(i) * time.Microsecond)
			r.Latency("x", done.Add(-time.Duration(i%5000)*time.Microsecond), done)
			r.Event("x", done, 1024)
		}
	})
}
