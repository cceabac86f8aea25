package streamworkers

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
)

// BenchmarkFilterProject measures a filter+project worker on one node:
// events/s through it (a backlog of b.N 1 KiB JSON messages, from the
// worker's start to its last row stored in the output stream: read,
// engine, synced checkpoint, publish), then the latency from publish to
// the row stored in the output stream, for messages published one batch
// of 10 at a time. Streams and checkpoints are on disk, fsynced (the
// node's defaults). Report, not assert:
//
//	go test -run '^$' -bench FilterProject -benchtime 200000x ./streamworkers/
func BenchmarkFilterProject(b *testing.B) {
	e := newEnv(b, Options{Dir: "disk"}) // checkpoints on disk, synced at every step
	pad := strings.Repeat("x", 940)
	msg := func(id int, v int) string {
		return fmt.Sprintf(`{"id":%d,"v":%d,"ts":%d,"pad":"%s"}`, id, v, time.Now().UnixNano(), pad)
	}
	p, err := e.stream("orders").AttachProducer("bench", -1)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	const batch = 1000
	pass := 0
	for i := 0; i < b.N; i += batch {
		msgs := make([]broker.Message, 0, batch)
		for j := i; j < min(i+batch, b.N); j++ {
			if j%20 > 10 {
				pass++
			}
			msgs = append(msgs, broker.Message{Payload: []byte(msg(j, j%20)), SequenceID: -1})
		}
		for _, r := range p.Publish(msgs) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
	out := e.stream("sink").Source()
	b.ResetTimer()
	start := time.Now()
	e.create("fp", "INSERT INTO sink SELECT id, v * 2 AS d, ts FROM orders WHERE v > 10")
	for out.EndOffset() < uint64(pass) {
		select {
		case <-out.Changed():
		case <-time.After(time.Minute):
			b.Fatalf("%d of %d rows after a minute", out.EndOffset(), pass)
		}
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")

	// Latency: the worker is idle; publish 10 at a time, read each row as
	// it is stored.
	const rounds = 300
	var lat []time.Duration
	next := out.EndOffset()
	for r := 0; r < rounds; r++ {
		msgs := make([]broker.Message, 10)
		for i := range msgs {
			msgs[i] = broker.Message{Payload: []byte(msg(b.N+r*10+i, 15)), SequenceID: -1}
		}
		p.PublishAsync(msgs, func([]broker.PublishResult) {})
		for got := 0; got < 10; {
			ch := out.Changed()
			if out.EndOffset() <= next {
				select {
				case <-ch:
				case <-time.After(10 * time.Second):
					b.Fatal("no row within 10 s")
				}
				continue
			}
			recs, err := out.Read(next, 100, 1<<20)
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			for _, rec := range recs {
				var row struct {
					TS int64 `json:"ts"`
				}
				if err := json.Unmarshal(rec.Payload, &row); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, now.Sub(time.Unix(0, row.TS)))
				got++
				next = rec.Offset + 1
			}
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkTumbleGroupBy10kKeys measures a 10-second tumbling-window GROUP
// BY over 10,000 keys on one node: events/s through it (a backlog of b.N
// 1 KiB JSON messages whose event times advance 0.5 ms each, so that
// 200,000 of them span 100 s: ten windows, nine closed, 90,000 rows; from
// the worker's start until it consumed and committed them all, its state
// synced with every step, and its rows are stored). Report, not assert:
//
//	go test -run '^$' -bench Tumble -benchtime 200000x ./streamworkers/
func BenchmarkTumbleGroupBy10kKeys(b *testing.B) {
	e := newEnv(b, Options{Dir: "disk"})
	pad := strings.Repeat("x", 940)
	p, err := e.stream("orders").AttachProducer("bench", -1)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	const batch = 1000
	for i := 0; i < b.N; i += batch {
		msgs := make([]broker.Message, 0, batch)
		for j := i; j < min(i+batch, b.N); j++ {
			msgs = append(msgs, broker.Message{Payload: []byte(fmt.Sprintf(`{"id":%d,"user":"u%05d","amount":%d,"ts":%d,"pad":"%s"}`, j, j%10000, j%7, 1_700_000_000_000+int64(j/2), pad)), SequenceID: -1})
		}
		for _, r := range p.Publish(msgs) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
	b.ResetTimer()
	start := time.Now()
	e.create("agg", "SET @event_time = 'ts'; INSERT INTO sink SELECT user, COUNT(*) AS n, SUM(amount) AS s FROM orders GROUP BY user, TUMBLE(ts, '10s')")
	id := workerID{naming.DefaultTenant, testFabric, "agg"}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		st, ok := e.r.stats(id)
		if ok && st.EventsIn == uint64(b.N) && st.Pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("not done after 5 minutes: %+v", st)
		}
		time.Sleep(time.Millisecond)
	}
	el := time.Since(start)
	b.StopTimer()
	st, _ := e.r.stats(id)
	b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
	b.ReportMetric(float64(st.RowsOut), "rows")
	b.ReportMetric(float64(st.StateBytes)/(1<<20), "state-MiB")
}
