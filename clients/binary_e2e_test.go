package clients_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/wsproto"
	"github.com/causeway/causeway/clients"
	"github.com/causeway/causeway/server"
)

// cutProxy forwards TCP connections to a node and cuts them all on demand,
// as a network failure would: the client reconnects through it.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	cuts   atomic.Int32
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	t.Cleanup(func() { _ = ln.Close(); p.cut() })
	go p.serve()
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			_ = dst.Close()
			_ = src.Close()
		}
		go pipe(up, c)
		go pipe(c, up)
	}
}

// cut resets every connection open through the proxy.
func (p *cutProxy) cut() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
	}
	p.cuts.Add(1)
}

// TestBinaryAgainstRealNode drives the client with WithBinaryProtocol
// against a real node through a proxy that cuts connections: a producer
// whose connection is cut three times stores every message exactly once
// (resends are de-duplicated), a reader cut twice reads them exactly once
// in order, an exclusive consumer acks, nacks and sees the redelivery, and
// its acks are all applied (a new consumer starts after them), shared
// consumers cut mid-stream receive everything, and a pull-mode consumer
// receives through permit frames.
func TestBinaryAgainstRealNode(t *testing.T) {
	srv, err := server.Start(broker.Config{Region: "e2e", DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0"}, zaptest.NewLogger(t).Named("node"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	defer func() { _ = srv.Shutdown(ctx) }()
	proxy := newCutProxy(t, srv.Addr())
	c, err := clients.New("http://"+proxy.ln.Addr().String(), clients.WithBinaryProtocol(true),
		clients.WithReconnectBackoff(time.Millisecond, 20*time.Millisecond), clients.WithLogger(zaptest.NewLogger(t).Named("client")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// 1. Publish with three cuts: every message completes without error,
	// once, with a distinct id.
	const n = 20000
	p, err := c.CreateProducer(ctx, clients.ProducerOptions{Stream: "bin", Name: "writer", BatchMaxMessages: 200})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		done    int
		sendErr error
		ids     = map[uint64]int{}
	)
	for i := range n {
		p.SendAsync(clients.ProducerMessage{Payload: []byte(strconv.Itoa(i)), Key: "k" + strconv.Itoa(i%10),
			Properties: map[string]string{"i": strconv.Itoa(i)}, EventTime: time.UnixMilli(1700000000000 + int64(i))},
			func(id wsproto.MessageID, err error) {
				mu.Lock()
				defer mu.Unlock()
				done++
				if err != nil && sendErr == nil {
					sendErr = fmt.Errorf("message %d: %w", i, err)
				}
				if id != (wsproto.MessageID{}) {
					if prev, dup := ids[id.Offset]; dup {
						sendErr = fmt.Errorf("messages %d and %d both got offset %d", prev, i, id.Offset)
					}
					ids[id.Offset] = i
				}
				if done == 2000 || done == 8000 || done == 14000 {
					proxy.cut()
				}
			})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if sendErr != nil || done != n {
		t.Fatalf("%d of %d completed; %v", done, n, sendErr)
	}
	mu.Unlock()
	if proxy.cuts.Load() < 3 {
		t.Fatalf("only %d cuts", proxy.cuts.Load())
	}
	if _, err := p.Send(ctx, clients.ProducerMessage{Payload: []byte("end")}); err != nil {
		t.Fatal(err)
	}

	// 2. A reader cut twice returns every message once, in order, then "end".
	r, err := c.CreateReader(ctx, clients.ReaderOptions{Stream: "bin", StartMessageID: clients.StartEarliest, ReceiverQueueSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n + 1 {
		m, err := r.Next(ctx)
		if err != nil {
			t.Fatalf("reader %d: %v", i, err)
		}
		want := strconv.Itoa(i)
		if i == n {
			want = "end"
		}
		if string(m.Payload) != want {
			t.Fatalf("reader message %d: %q (stored twice or lost?)", i, m.Payload)
		}
		if i < n && (m.Key != "k"+strconv.Itoa(i%10) || m.Properties["i"] != want || m.EventTime.UnixMilli() != 1700000000000+int64(i) ||
			m.ID.Offset != uint64(i) || m.Stream != "persistent://_mm/_system/bin") {
			t.Fatalf("reader message %d: %+v", i, m)
		}
		if i == 5000 || i == 12000 {
			proxy.cut()
		}
	}
	_ = r.Close()

	// 3. An exclusive consumer acks everything, nacks message 100 once and
	// gets it back; after it closes, a new one starts after all its acks.
	opts := clients.ConsumerOptions{Streams: []string{"bin"}, Subscription: "ex", InitialPosition: clients.Earliest, NackDelay: 10 * time.Millisecond}
	ex, err := c.Subscribe(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	seen := make([]bool, n+1)
	unique, redelivered := 0, false
	for unique < n+1 || !redelivered {
		m, err := ex.Receive(ctx)
		if err != nil {
			t.Fatalf("exclusive consumer after %d: %v", unique, err)
		}
		off := m.ID.Offset
		if off == 100 && m.RedeliveryCount == 0 {
			if err := ex.Nack(m); err != nil {
				t.Fatal(err)
			}
		} else {
			if off == 100 {
				redelivered = m.RedeliveryCount == 1
			}
			if err := ex.Ack(m); err != nil {
				t.Fatal(err)
			}
		}
		if !seen[off] {
			seen[off] = true
			unique++
		}
	}
	if err := ex.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Send(ctx, clients.ProducerMessage{Payload: []byte("after")}); err != nil {
		t.Fatal(err)
	}
	ex2, err := c.Subscribe(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := ex2.Receive(ctx); err != nil || string(m.Payload) != "after" {
		t.Fatalf("after the acks the subscription starts at %q (%v), want \"after\"", m.Payload, err)
	}
	_ = ex2.Close()

	// 4. Two shared consumers, cut mid-stream, receive every message.
	shared := clients.ConsumerOptions{Streams: []string{"bin"}, Subscription: "sh", Type: clients.Shared, InitialPosition: clients.Earliest}
	var got sync.Map
	var count atomic.Int64
	var wg sync.WaitGroup
	cctx, ccancel := context.WithCancel(ctx)
	for k := range 2 {
		shared.ConsumerName = "c" + strconv.Itoa(k)
		sc, err := c.Subscribe(ctx, shared)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer sc.Close()
			for {
				m, err := sc.Receive(cctx)
				if err != nil {
					return
				}
				if _, dup := got.LoadOrStore(m.ID.Offset, true); !dup {
					if count.Add(1) == n/2 {
						proxy.cut()
					}
				}
				if err := sc.Ack(m); err != nil && !errors.Is(err, clients.ErrNotConnected) {
					t.Errorf("ack: %v", err)
				}
				if count.Load() == n+2 { // the messages, "end" and "after"
					ccancel()
				}
			}
		}()
	}
	wg.Wait()
	if count.Load() != n+2 {
		t.Fatalf("shared consumers received %d distinct messages, want %d", count.Load(), n+2)
	}
	ccancel()

	// 5. Pull mode: permits go out as binary permit frames.
	pull, err := c.Subscribe(ctx, clients.ConsumerOptions{Streams: []string{"bin"}, Subscription: "pull", InitialPosition: clients.Earliest,
		PullMode: true, ReceiverQueueSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		m, err := pull.Receive(ctx)
		if err != nil || string(m.Payload) != strconv.Itoa(i) {
			t.Fatalf("pull consumer %d: %q, %v", i, m.Payload, err)
		}
		if err := pull.Ack(m); err != nil {
			t.Fatal(err)
		}
	}
}
