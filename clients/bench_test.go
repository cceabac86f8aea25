package clients

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/causeway/causeway/broker/wsbin"
	"github.com/causeway/causeway/broker/wsproto"
)

// autoAck answers every producer frame on conn with ok acks until the
// connection ends.
func autoAck(conn *fakeConn) {
	next := uint64(0)
	for {
		var frame []byte
		select {
		case frame = <-conn.frames:
		case <-conn.gone:
			return
		}
		batch := wsproto.IsBatch(frame)
		var ms []wsproto.ProducerMessage
		if batch {
			_ = json.Unmarshal(frame, &ms)
		} else {
			ms = make([]wsproto.ProducerMessage, 1)
			_ = json.Unmarshal(frame, &ms[0])
		}
		acks := make([]wsproto.ProducerAck, len(ms))
		for i, m := range ms {
			acks[i] = wsproto.ProducerAck{Result: "ok", MessageID: wsproto.MessageID{Offset: next, Partition: -1}.Encode(), Context: m.Context}
			next++
		}
		var b []byte
		if batch {
			b, _ = json.Marshal(acks)
		} else {
			b, _ = json.Marshal(acks[0])
		}
		if conn.ws.WriteMessage(websocket.TextMessage, b) != nil {
			return
		}
	}
}

// BenchmarkProducerSendAsync measures batched, pipelined publishing of
// 100-byte messages through a loopback fake server that acks everything.
func BenchmarkProducerSendAsync(b *testing.B) {
	f := newFakeServer(b)
	p, err := f.client(b).CreateProducer(ctxT(b), ProducerOptions{Stream: "s"})
	if err != nil {
		b.Fatal(err)
	}
	go autoAck(f.accept(b))
	payload := bytes.Repeat([]byte("x"), 100)
	b.SetBytes(int64(len(payload)))
	start := time.Now()
	for b.Loop() {
		p.SendAsync(ProducerMessage{Payload: payload}, nil)
	}
	if err := p.Flush(ctxT(b)); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkProducerSend measures synchronous round trips.
func BenchmarkProducerSend(b *testing.B) {
	f := newFakeServer(b)
	p, err := f.client(b).CreateProducer(ctxT(b), ProducerOptions{Stream: "s"})
	if err != nil {
		b.Fatal(err)
	}
	go autoAck(f.accept(b))
	ctx := ctxT(b)
	for b.Loop() {
		if _, err := p.Send(ctx, ProducerMessage{Payload: []byte("x")}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOutbox measures the pure core: add, cut into batches of 100,
// and complete.
func BenchmarkOutbox(b *testing.B) {
	o := newOutbox(0, 1000)
	payload := bytes.Repeat([]byte("x"), 100)
	acks := make([]wsproto.ProducerAck, 100)
	i := 0
	for b.Loop() {
		_ = o.add(ProducerMessage{Payload: payload}, nil)
		if i++; i%100 == 0 {
			o.take(100, 1<<20)
			for j := range acks {
				acks[j] = wsproto.ProducerAck{Result: "ok", MessageID: "CAAQABj///////////8B"}
			}
			if _, err := o.acked(acks); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkOutboxBinary is BenchmarkOutbox with causeway-binary-v1 frames
// and acks (1 KiB payloads).
func BenchmarkOutboxBinary(b *testing.B) {
	o := newOutbox(-1, 1000)
	o.binary = true
	payload := bytes.Repeat([]byte("x"), 1024)
	results := make([]wsbin.PublishResult, 100)
	for i := range results {
		results[i].Offset = uint64(i)
	}
	i := 0
	for b.Loop() {
		_ = o.add(ProducerMessage{Payload: payload}, nil)
		if i++; i%100 == 0 {
			f := o.take(100, 1<<20)
			a, err := wsbin.DecodePublishAck(wsbin.AppendPublishAck(nil, uint64(i-100), results))
			if err != nil || len(f) < 100*1024 {
				b.Fatal(err)
			}
			if _, err := o.ackedBinary(&a); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkConsumerReceive measures push-mode delivery through a loopback
// fake server.
func BenchmarkConsumerReceive(b *testing.B) {
	f := newFakeServer(b)
	c, err := f.client(b).Subscribe(ctxT(b), ConsumerOptions{Streams: []string{"s"}, Subscription: "sub"})
	if err != nil {
		b.Fatal(err)
	}
	conn := f.accept(b)
	frame, _ := json.Marshal(wsproto.ConsumerMessage{MessageID: mid(1).Encode(), Payload: b64(string(bytes.Repeat([]byte("x"), 100))),
		PublishTime: "1700000000000"})
	n := b.N
	go func() {
		for range n {
			if conn.ws.WriteMessage(websocket.TextMessage, frame) != nil {
				return
			}
		}
	}()
	ctx := ctxT(b)
	b.SetBytes(100)
	b.ResetTimer()
	for range n {
		if _, err := c.Receive(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
