package clients

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/wsproto"
)

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

func TestProducerSend(t *testing.T) {
	f := newFakeServer(t)
	c := f.client(t, WithToken("s3cret"), WithFabric("fab"))
	p, err := c.CreateProducer(ctxT(t), ProducerOptions{Stream: "orders", Name: "p1", InitialSequenceID: 41})
	if err != nil {
		t.Fatal(err)
	}
	conn := f.accept(t)
	if conn.req.URL.Path != "/ws/v2/producer/persistent/_mm/fab/orders" || conn.req.URL.Query().Get("producerName") != "p1" ||
		conn.req.URL.Query().Get("initialSequenceId") != "41" || conn.req.Header.Get("Authorization") != "Bearer s3cret" {
		t.Fatalf("upgrade %s %v", conn.req.URL, conn.req.Header)
	}
	type res struct {
		id  wsproto.MessageID
		err error
	}
	done := make(chan res, 1)
	go func() {
		id, err := p.Send(ctxT(t), ProducerMessage{Payload: []byte("hello"), Key: "k", Properties: map[string]string{"a": "b"}})
		done <- res{id, err}
	}()
	frame := conn.next(t)
	if wsproto.IsBatch(frame) {
		t.Fatalf("a lone message went out as a batch: %s", frame)
	}
	next := uint64(7)
	m := conn.ackAll(t, frame, &next)[0]
	if string(m.Payload) != "hello" || m.Frame.Key != "k" || m.Frame.Properties["a"] != "b" || *m.Frame.SequenceID != 42 {
		t.Fatalf("published %+v", m)
	}
	r := <-done
	if r.err != nil || r.id != mid(7) {
		t.Fatalf("Send = %v, %v", r.id, r.err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Send(ctxT(t), ProducerMessage{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
}

// callbacks records async completions in the order they run.
type callbacks struct {
	mu  sync.Mutex
	got []string
}

func (c *callbacks) done(name string) func(wsproto.MessageID, error) {
	return func(id wsproto.MessageID, err error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if err != nil {
			c.got = append(c.got, name+":"+err.Error())
			return
		}
		c.got = append(c.got, fmt.Sprintf("%s@%d", name, id.Offset))
	}
}

func (c *callbacks) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.got, " ")
}

func TestProducerBatching(t *testing.T) {
	f := newFakeServer(t)
	p, err := f.client(t).CreateProducer(ctxT(t), ProducerOptions{Stream: "s", BatchMaxMessages: 10, BatchMaxDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	conn := f.accept(t)
	var cb callbacks
	var want []string
	for i := range 25 {
		p.SendAsync(ProducerMessage{Payload: fmt.Appendf(nil, "m%d", i)}, cb.done(fmt.Sprint(i)))
		want = append(want, fmt.Sprintf("%d@%d", i, i))
	}
	next := uint64(0)
	var sizes []int
	for range 2 { // full batches go out without waiting for the delay
		f := conn.next(t)
		if !wsproto.IsBatch(f) {
			t.Fatalf("not a batch: %s", f)
		}
		sizes = append(sizes, len(conn.ackAll(t, f, &next)))
	}
	flushed := make(chan error, 1)
	go func() { flushed <- p.Flush(ctxT(t)) }() // the rest goes out on Flush
	msgs := conn.ackAll(t, conn.next(t), &next)
	sizes = append(sizes, len(msgs))
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sizes) != "[10 10 5]" || string(msgs[4].Payload) != "m24" || *msgs[4].Frame.SequenceID != 25 {
		t.Fatalf("batch sizes %v, last %+v", sizes, msgs[4])
	}
	if got := cb.String(); got != strings.Join(want, " ") {
		t.Fatalf("callbacks %s", got)
	}
}

func TestProducerPipelinedAcks(t *testing.T) {
	f := newFakeServer(t)
	p, err := f.client(t).CreateProducer(ctxT(t), ProducerOptions{Stream: "s", BatchMaxMessages: 1})
	if err != nil {
		t.Fatal(err)
	}
	conn := f.accept(t)
	var cb callbacks
	for _, n := range []string{"a", "b", "c"} {
		p.SendAsync(ProducerMessage{Payload: []byte(n)}, cb.done(n))
	}
	// All three frames are written before any ack is sent.
	frames := [][]byte{conn.next(t), conn.next(t), conn.next(t)}
	next := uint64(100)
	for _, fr := range frames {
		conn.ackAll(t, fr, &next)
	}
	if err := p.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if got := cb.String(); got != "a@100 b@101 c@102" {
		t.Fatalf("callbacks %s", got)
	}
}

func TestProducerSendError(t *testing.T) {
	f := newFakeServer(t)
	p, err := f.client(t).CreateProducer(ctxT(t), ProducerOptions{Stream: "s"})
	if err != nil {
		t.Fatal(err)
	}
	conn := f.accept(t)
	go func() {
		m := publishes(t, conn.next(t))[0]
		conn.send(t, wsproto.SendError(wsproto.ErrCodePayloadTooLarge, "payload of 9 bytes exceeds the limit of 8 bytes", m.Frame.Context))
		next := uint64(1)
		conn.ackAll(t, conn.next(t), &next)
	}()
	_, err = p.Send(ctxT(t), ProducerMessage{Payload: []byte("too large")})
	var se *SendError
	if !errors.As(err, &se) || se.Code != wsproto.ErrCodePayloadTooLarge || !strings.Contains(err.Error(), "exceeds the limit of 8 bytes") {
		t.Fatalf("Send = %v, want the server's send-error", err)
	}
	if id, err := p.Send(ctxT(t), ProducerMessage{Payload: []byte("ok")}); err != nil || id != mid(1) {
		t.Fatalf("the producer should go on after a send error: %v %v", id, err)
	}
}

func TestProducerReconnectResendsUnacked(t *testing.T) {
	f := newFakeServer(t)
	p, err := f.client(t).CreateProducer(ctxT(t), ProducerOptions{Stream: "s", Name: "p1", BatchMaxMessages: 1})
	if err != nil {
		t.Fatal(err)
	}
	conn := f.accept(t)
	var cb callbacks
	for _, n := range []string{"a", "b", "c"} {
		p.SendAsync(ProducerMessage{Payload: []byte(n)}, cb.done(n))
	}
	next := uint64(10)
	conn.ackAll(t, conn.next(t), &next) // a
	first := map[string]int64{}
	for range 2 {
		m := publishes(t, conn.next(t))[0]
		first[string(m.Payload)] = *m.Frame.SequenceID
	}
	conn.drop()

	conn = f.accept(t)
	if q := conn.req.URL.Query(); q.Get("producerName") != "p1" || q.Get("initialSequenceId") != "1" {
		t.Fatalf("reconnect URL %s", conn.req.URL)
	}
	var resent []string
	for len(resent) < 2 {
		for _, m := range conn.ackAll(t, conn.next(t), &next) {
			if first[string(m.Payload)] != *m.Frame.SequenceID {
				t.Fatalf("%s resent with sequence id %d, first sent with %d", m.Payload, *m.Frame.SequenceID, first[string(m.Payload)])
			}
			resent = append(resent, string(m.Payload))
		}
	}
	if err := p.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(resent) != "[b c]" || cb.String() != "a@10 b@11 c@12" {
		t.Fatalf("resent %v, callbacks %s", resent, cb.String())
	}
}

func TestProducerBoundsPending(t *testing.T) {
	f := newFakeServer(t)
	const maxPending = 3
	p, err := f.client(t).CreateProducer(ctxT(t), ProducerOptions{Stream: "s", MaxPendingMessages: maxPending, BatchMaxMessages: 100})
	if err != nil {
		t.Fatal(err)
	}
	conn := f.accept(t)
	var cb callbacks
	go func() {
		for i := range 30 {
			p.SendAsync(ProducerMessage{Payload: []byte{byte(i)}}, cb.done(fmt.Sprint(i)))
		}
	}()
	next, seen := uint64(0), 0
	for seen < 30 {
		msgs := conn.ackAll(t, conn.next(t), &next)
		if len(msgs) > maxPending {
			t.Fatalf("a frame of %d messages with MaxPendingMessages %d", len(msgs), maxPending)
		}
		seen += len(msgs)
	}
	if err := p.Flush(ctxT(t)); err != nil || !strings.HasPrefix(cb.String(), "0@0 1@1 2@2 3@3") || len(cb.got) != 30 {
		t.Fatalf("Flush %v, callbacks %s", err, cb.String())
	}
}

func TestProducerRefused(t *testing.T) {
	f := newFakeServer(t)
	f.setRefuse(func(*http.Request) (int, string) { return 404, "stream persistent://_mm/_system/nope not found" })
	_, err := f.client(t).CreateProducer(ctxT(t), ProducerOptions{Stream: "nope"})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "stream persistent://_mm/_system/nope not found") {
		t.Fatalf("err %v", err)
	}
	if n := f.upgrades.Load(); n != 1 {
		t.Fatalf("%d upgrade attempts, want 1", n)
	}
}

func TestProducerCloseFailsPending(t *testing.T) {
	f := newFakeServer(t)
	p, err := f.client(t).CreateProducer(ctxT(t), ProducerOptions{Stream: "s", BatchMaxMessages: 1})
	if err != nil {
		t.Fatal(err)
	}
	conn := f.accept(t)
	var cb callbacks
	p.SendAsync(ProducerMessage{Payload: []byte("a")}, cb.done("a"))
	conn.next(t) // written, never acked
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if got := cb.String(); got != "a:"+ErrClosed.Error() {
		t.Fatalf("callbacks %s", got)
	}
	p.SendAsync(ProducerMessage{}, cb.done("b"))
	if err := p.Flush(ctxT(t)); !errors.Is(err, ErrClosed) || !strings.HasSuffix(cb.String(), "b:"+ErrClosed.Error()) {
		t.Fatalf("after Close: Flush %v, callbacks %s", err, cb.String())
	}
}

func TestProducerPermanentCloseFrame(t *testing.T) {
	f := newFakeServer(t)
	p, err := f.client(t).CreateProducer(ctxT(t), ProducerOptions{Stream: "s"})
	if err != nil {
		t.Fatal(err)
	}
	conn := f.accept(t)
	var cb callbacks
	p.SendAsync(ProducerMessage{Payload: []byte("a")}, cb.done("a"))
	conn.next(t)
	conn.closeWith(t, wsproto.ClosePolicy, "token expired")
	err = p.Flush(ctxT(t))
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != wsproto.ClosePolicy || !strings.Contains(err.Error(), "token expired") ||
		!strings.Contains(cb.String(), "token expired") {
		t.Fatalf("Flush %v, callbacks %s", err, cb.String())
	}
	if n := f.upgrades.Load(); n != 1 {
		t.Fatalf("%d upgrades: a policy close must not be retried", n)
	}
}

func TestProducerContinuesServerNumbering(t *testing.T) {
	f := newFakeServer(t)
	f.mu.Lock()
	f.lastSeq = "500"
	f.mu.Unlock()
	p, err := f.client(t).CreateProducer(ctxT(t), ProducerOptions{Stream: "s", Name: "reused"})
	if err != nil {
		t.Fatal(err)
	}
	conn := f.accept(t)
	if conn.req.URL.Query().Has("initialSequenceId") {
		t.Fatalf("upgrade %s: no initialSequenceId was known", conn.req.URL)
	}
	seq := make(chan int64, 1)
	go func() {
		next := uint64(0)
		seq <- *conn.ackAll(t, conn.next(t), &next)[0].Frame.SequenceID
	}()
	if _, err := p.Send(ctxT(t), ProducerMessage{}); err != nil {
		t.Fatal(err)
	}
	if got := <-seq; got != 501 {
		t.Fatalf("first message sent with sequence id %d, want 501", got)
	}
}
