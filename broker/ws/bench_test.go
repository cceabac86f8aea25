package ws_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/wsproto"
	"github.com/causeway/causeway/server"
)

// BenchmarkWSPublish measures end-to-end WebSocket publish throughput:
// 1 KiB messages, fsync before ack (policy always), 4 concurrent producer
// connections each sending batch frames of 100 messages with up to 8
// frames in flight. Reports msgs/s, MB/s and the process's CPU time per
// message (server and the load generator, which only writes a prepared
// frame and reads acks), a figure less sensitive than msgs/s to other load
// on the machine.
func BenchmarkWSPublish(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) { benchPublish(b, 4, batch) })
	}
}

func benchPublish(b *testing.B, producers, batch int) {
	srv, err := server.Start(broker.Config{Region: "bench", DataDir: b.TempDir(), HTTPAddr: "127.0.0.1:0"}, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = srv.Shutdown(b.Context()) }()
	payload := b64(strings.Repeat("x", 1024))
	one, _ := json.Marshal(wsproto.ProducerMessage{Payload: payload})
	frame := one
	if batch > 1 {
		frame = []byte("[" + strings.TrimSuffix(strings.Repeat(string(one)+",", batch), ",") + "]")
	}
	conns := make([]*websocket.Conn, producers)
	for i := range conns {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+srv.Addr()+producerPath("bench"), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	frames := (b.N + batch - 1) / batch
	b.SetBytes(1024)
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU()
	var wg sync.WaitGroup
	for i, c := range conns {
		n := frames / producers
		if i < frames%producers {
			n++
		}
		wg.Add(2)
		window := make(chan struct{}, 1024/batch+1)
		go func() {
			defer wg.Done()
			for j := 0; j < n; j++ {
				window <- struct{}{}
				if err := c.WriteMessage(websocket.TextMessage, frame); err != nil {
					b.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for j := 0; j < n; j++ {
				if _, _, err := c.ReadMessage(); err != nil {
					b.Error(err)
					return
				}
				<-window
			}
		}()
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), processCPU()-cpu0
	b.StopTimer()
	b.ReportMetric(float64(frames*batch)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(frames*batch), "cpu-µs/msg")
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
