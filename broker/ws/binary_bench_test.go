package ws_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/wsbin"
	"github.com/causeway/causeway/clients"
	"github.com/causeway/causeway/server"
)

// BenchmarkWSPublishBinary is BenchmarkWSPublish over causeway-binary-v1:
// 1 KiB messages, fsync before ack (policy always), 4 producer connections
// each sending binary publish frames of batch messages with up to 1024
// messages in flight. Reports msgs/s and MB/s.
func BenchmarkWSPublishBinary(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) { benchPublishBinary(b, 4, batch) })
	}
}

func benchPublishBinary(b *testing.B, producers, batch int) {
	srv, err := server.Start(broker.Config{Region: "bench", DataDir: b.TempDir(), HTTPAddr: "127.0.0.1:0"}, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = srv.Shutdown(b.Context()) }()
	msgs := make([]wsbin.Publish, batch)
	for i := range msgs {
		msgs[i] = wsbin.Publish{Payload: bytes.Repeat([]byte("x"), 1024), SequenceID: -1}
	}
	frame := wsbin.AppendPublish(nil, 0, msgs)
	conns := make([]*websocket.Conn, producers)
	for i := range conns {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+srv.Addr()+producerPath("bench")+"?"+binaryQuery, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	frames := (b.N + batch - 1) / batch
	b.SetBytes(1024)
	b.ResetTimer()
	start := time.Now()
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
			for range n {
				window <- struct{}{}
				if err := c.WriteMessage(websocket.BinaryMessage, frame); err != nil {
					b.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range n {
				_, data, err := c.ReadMessage()
				if err != nil {
					b.Error(err)
					return
				}
				if a, err := wsbin.DecodePublishAck(data); err != nil || a.Refusal != nil {
					b.Errorf("ack: %+v, %v", a, err)
					return
				}
				<-window
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(frames*batch)/elapsed.Seconds(), "msgs/s")
}

// BenchmarkWSConsume measures push throughput to one exclusive consumer of
// the Go client (clients) that acks every message (1 KiB messages,
// published beforehand, receiver queue 1000), with Pulsar's JSON frames
// (one message per frame, base64; acks grouped into bursts) and with
// causeway-binary-v1 (many per frame both ways). Reports msgs/s.
func BenchmarkWSConsume(b *testing.B) {
	for _, binary := range []bool{false, true} {
		name := "json"
		if binary {
			name = "binary"
		}
		b.Run(name, func(b *testing.B) { benchConsume(b, binary) })
	}
}

func benchConsume(b *testing.B, binary bool) {
	srv, err := server.Start(broker.Config{Region: "bench", DataDir: b.TempDir(), HTTPAddr: "127.0.0.1:0", Fsync: "never"}, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = srv.Shutdown(b.Context()) }()
	prod, _, err := websocket.DefaultDialer.Dial("ws://"+srv.Addr()+producerPath("cons")+"?"+binaryQuery, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer prod.Close()
	msgs := make([]wsbin.Publish, 1000)
	for i := range msgs {
		msgs[i] = wsbin.Publish{Payload: bytes.Repeat([]byte("x"), 1024), SequenceID: -1}
	}
	for left := b.N; left > 0; left -= len(msgs) {
		if err := prod.WriteMessage(websocket.BinaryMessage, wsbin.AppendPublish(nil, 0, msgs[:min(left, len(msgs))])); err != nil {
			b.Fatal(err)
		}
		if _, _, err := prod.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
	c, err := clients.New(srv.URL(), clients.WithBinaryProtocol(binary))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.SetBytes(1024)
	b.ResetTimer()
	start := time.Now()
	cons, err := c.Subscribe(b.Context(), clients.ConsumerOptions{Streams: []string{"cons"}, Subscription: "s", InitialPosition: clients.Earliest})
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		m, err := cons.Receive(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		if err := cons.Ack(m); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}
