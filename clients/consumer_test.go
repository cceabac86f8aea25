package clients

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/causeway/causeway/broker/wsproto"
)

func receive(t *testing.T, c *Consumer) *Message {
	t.Helper()
	m, err := c.Receive(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestConsumerFrames(t *testing.T) {
	f := newFakeServer(t)
	c, err := f.client(t, WithToken("tok")).Subscribe(ctxT(t), ConsumerOptions{Streams: []string{"t/f/s"}, Subscription: "sub",
		Type: Failover, InitialPosition: Earliest, ConsumerName: "c1", ReceiverQueueSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	conn := f.accept(t)
	q := conn.req.URL.Query()
	if conn.req.URL.Path != "/ws/v2/consumer/persistent/t/f/s/sub" || q.Get("subscriptionType") != "Failover" ||
		q.Get("subscriptionInitialPosition") != "Earliest" || q.Get("consumerName") != "c1" || q.Get("receiverQueueSize") != "10" ||
		q.Get("pullMode") != "false" || conn.req.Header.Get("Authorization") != "Bearer tok" {
		t.Fatalf("upgrade %s", conn.req.URL)
	}
	raw := []string{conn.push(t, mid(1), "a", 0), conn.push(t, mid(2), "b", 0), conn.push(t, mid(3), "c", 3)}
	ms := []*Message{receive(t, c), receive(t, c), receive(t, c)}
	m := ms[2]
	if string(m.Payload) != "c" || m.ID != mid(3) || m.RawID != raw[2] || m.Key != "k-c" || m.Properties["n"] != "c" ||
		m.RedeliveryCount != 3 || m.Stream != "persistent://t/f/s" || m.PublishTime.UnixMilli() != 1700000000000 {
		t.Fatalf("received %+v", m)
	}
	if err := c.Ack(ms[0]); err != nil {
		t.Fatal(err)
	}
	if err := c.AckCumulative(ms[1]); err != nil {
		t.Fatal(err)
	}
	if err := c.Nack(ms[2]); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`{"messageId":"` + raw[0] + `"}`,
		`{"type":"cumulativeAck","messageId":"` + raw[1] + `"}`,
		`{"type":"negativeAcknowledge","messageId":"` + raw[2] + `"}`,
	} {
		if got := conn.command(t); got != want {
			t.Fatalf("sent %s, want %s", got, want)
		}
	}
	if err := c.Ack(&Message{}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("ack without id: %v", err)
	}
	if err := c.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	if got := conn.command(t); got != `{"type":"unsubscribe"}` {
		t.Fatalf("sent %s", got)
	}
	if _, err := c.Receive(ctxT(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Receive after Unsubscribe: %v", err)
	}
	if err := c.Ack(ms[0]); !errors.Is(err, ErrClosed) {
		t.Fatalf("Ack after close: %v", err)
	}
}

func TestConsumerSharedRefusesCumulativeAck(t *testing.T) {
	f := newFakeServer(t)
	c, err := f.client(t).Subscribe(ctxT(t), ConsumerOptions{Streams: []string{"s"}, Subscription: "sub", Type: Shared})
	if err != nil {
		t.Fatal(err)
	}
	conn := f.accept(t)
	conn.push(t, mid(1), "a", 0)
	if err := c.AckCumulative(receive(t, c)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("cumulative ack on shared: %v", err)
	}
}

func TestConsumerPullModePermits(t *testing.T) {
	f := newFakeServer(t)
	c, err := f.client(t).Subscribe(ctxT(t), ConsumerOptions{Streams: []string{"s"}, Subscription: "sub", PullMode: true, ReceiverQueueSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	conn := f.accept(t)
	if conn.req.URL.Query().Get("pullMode") != "true" {
		t.Fatalf("upgrade %s", conn.req.URL)
	}
	if got := conn.command(t); got != `{"type":"permit","permitMessages":4}` {
		t.Fatalf("first frame %s, want the initial permits", got)
	}
	var raw []string
	for i := range 4 {
		raw = append(raw, conn.push(t, mid(uint64(i)), "m", 0))
	}
	// One message taken: no permit yet, so the next frame is the ack.
	if err := c.Ack(receive(t, c)); err != nil {
		t.Fatal(err)
	}
	if got := conn.command(t); got != `{"messageId":"`+raw[0]+`"}` {
		t.Fatalf("sent %s, want the ack", got)
	}
	// Half the queue taken: two permits.
	receive(t, c)
	if got := conn.command(t); got != `{"type":"permit","permitMessages":2}` {
		t.Fatalf("sent %s, want 2 permits", got)
	}
	receive(t, c)
	receive(t, c)
	if got := conn.command(t); got != `{"type":"permit","permitMessages":2}` {
		t.Fatalf("sent %s, want 2 permits", got)
	}
}

func TestConsumerBusyIsNotRetried(t *testing.T) {
	f := newFakeServer(t)
	f.setRefuse(func(*http.Request) (int, string) {
		return http.StatusConflict, "exclusive subscription sub already has a consumer"
	})
	_, err := f.client(t).Subscribe(ctxT(t), ConsumerOptions{Streams: []string{"s"}, Subscription: "sub"})
	var re *RefusedError
	if !errors.Is(err, ErrConsumerBusy) || !errors.As(err, &re) || re.Status != 409 ||
		!strings.Contains(err.Error(), "exclusive subscription sub already has a consumer") {
		t.Fatalf("err %v", err)
	}
	if n := f.upgrades.Load(); n != 1 {
		t.Fatalf("%d upgrade attempts, want 1", n)
	}
}

func TestConsumerReconnect(t *testing.T) {
	f := newFakeServer(t)
	c, err := f.client(t).Subscribe(ctxT(t), ConsumerOptions{Streams: []string{"s"}, Subscription: "sub"})
	if err != nil {
		t.Fatal(err)
	}
	conn := f.accept(t)
	first := conn.req.URL.String()
	conn.push(t, mid(1), "a", 0)
	conn.push(t, mid(2), "b", 0)
	if m := receive(t, c); string(m.Payload) != "a" {
		t.Fatalf("got %s", m.Payload)
	}
	conn.drop()

	conn = f.accept(t)
	if conn.req.URL.String() != first {
		t.Fatalf("resubscribed with %s, first with %s", conn.req.URL, first)
	}
	// The server redelivers b; the copy queued from the dropped connection
	// must not come out as well.
	raw := conn.push(t, mid(2), "b", 1)
	conn.push(t, mid(3), "c", 0)
	m := receive(t, c)
	if string(m.Payload) != "b" || m.RedeliveryCount != 1 {
		t.Fatalf("got %s (redeliveries %d), want the redelivered b", m.Payload, m.RedeliveryCount)
	}
	if err := c.Ack(m); err != nil {
		t.Fatal(err)
	}
	if got := conn.command(t); got != `{"messageId":"`+raw+`"}` {
		t.Fatalf("ack on the new connection: %s", got)
	}
	if m := receive(t, c); string(m.Payload) != "c" {
		t.Fatalf("got %s, want c", m.Payload)
	}
}

func TestConsumerReconnectRefused(t *testing.T) {
	f := newFakeServer(t)
	c, err := f.client(t).Subscribe(ctxT(t), ConsumerOptions{Streams: []string{"s"}, Subscription: "sub"})
	if err != nil {
		t.Fatal(err)
	}
	f.setRefuse(func(*http.Request) (int, string) { return http.StatusNotFound, "stream deleted" })
	f.accept(t).drop()
	_, err = c.Receive(ctxT(t))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "stream deleted") {
		t.Fatalf("Receive after refused reconnect: %v", err)
	}
	if n := f.upgrades.Load(); n != 2 {
		t.Fatalf("%d upgrades, want 2 (a 404 is not retried)", n)
	}
}

func TestConsumerReconnectRetriesBusyBriefly(t *testing.T) {
	f := newFakeServer(t)
	c, err := f.client(t).Subscribe(ctxT(t), ConsumerOptions{Streams: []string{"s"}, Subscription: "sub"})
	if err != nil {
		t.Fatal(err)
	}
	f.setRefuse(func(*http.Request) (int, string) { return http.StatusConflict, "busy" })
	f.accept(t).drop()
	if _, err = c.Receive(ctxT(t)); !errors.Is(err, ErrConsumerBusy) {
		t.Fatalf("Receive: %v", err)
	}
	if n := f.upgrades.Load(); n != 2+maxBusyRetries {
		t.Fatalf("%d upgrades, want %d", n, 2+maxBusyRetries)
	}
}

func TestConsumerCloseFrameReason(t *testing.T) {
	f := newFakeServer(t)
	c, err := f.client(t).Subscribe(ctxT(t), ConsumerOptions{Streams: []string{"s"}, Subscription: "sub"})
	if err != nil {
		t.Fatal(err)
	}
	f.accept(t).closeWith(t, wsproto.CloseProtocolError, "unknown command type \"launch\"")
	_, err = c.Receive(ctxT(t))
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != wsproto.CloseProtocolError || !strings.Contains(err.Error(), `unknown command type "launch"`) {
		t.Fatalf("Receive: %v", err)
	}
}

func TestConsumerSkipsMalformedMessage(t *testing.T) {
	f := newFakeServer(t)
	c, err := f.client(t).Subscribe(ctxT(t), ConsumerOptions{Streams: []string{"s"}, Subscription: "sub"})
	if err != nil {
		t.Fatal(err)
	}
	conn := f.accept(t)
	conn.send(t, map[string]string{"messageId": "!!", "payload": "x"})
	conn.push(t, mid(5), "ok", 0)
	if m := receive(t, c); string(m.Payload) != "ok" {
		t.Fatalf("got %s", m.Payload)
	}
}

func TestMultiStreamConsumer(t *testing.T) {
	f := newFakeServer(t)
	c, err := f.client(t).Subscribe(ctxT(t), ConsumerOptions{Streams: []string{"a", "t/f/b"}, Subscription: "sub", Type: Shared})
	if err != nil {
		t.Fatal(err)
	}
	conn := f.accept(t)
	if conn.req.URL.Path != "/ws/v3/consumer/sub" || conn.req.URL.Query().Get("topics") != "persistent://_mm/_system/a,persistent://t/f/b" {
		t.Fatalf("upgrade %s", conn.req.URL)
	}
	ep, err := wsproto.ParsePath(conn.req.URL.Path, conn.req.URL.Query().Get("topics"))
	if err != nil || len(ep.Streams) != 2 {
		t.Fatalf("server would parse %s as %+v, %v", conn.req.URL, ep, err)
	}
	id := wsproto.MessageID{Stream: 1, Offset: 4, Partition: -1}
	conn.send(t, wsproto.ConsumerMessage{MessageID: id.Encode(), Payload: b64("x"), Topic: "persistent://t/f/b", PublishTime: "1700000000000"})
	conn.send(t, wsproto.ConsumerMessage{MessageID: mid(9).Encode(), Payload: b64("y")}) // no topic: by id index
	m := receive(t, c)
	if m.Stream != "persistent://t/f/b" || m.ID != id {
		t.Fatalf("got %+v", m)
	}
	if err := c.Ack(m); err != nil {
		t.Fatal(err)
	}
	if got := conn.command(t); got != `{"messageId":"`+id.Encode()+`"}` {
		t.Fatalf("sent %s", got)
	}
	if m := receive(t, c); m.Stream != "persistent://_mm/_system/a" {
		t.Fatalf("got %+v", m)
	}
}

func TestClientCloseClosesEverything(t *testing.T) {
	f := newFakeServer(t)
	cl := f.client(t)
	c, err := cl.Subscribe(ctxT(t), ConsumerOptions{Streams: []string{"s"}, Subscription: "sub"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := cl.CreateProducer(ctxT(t), ProducerOptions{Stream: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Receive(ctxT(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Receive: %v", err)
	}
	if _, err := p.Send(ctxT(t), ProducerMessage{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send: %v", err)
	}
	if _, err := cl.CreateReader(ctxT(t), ReaderOptions{Stream: "s"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("CreateReader: %v", err)
	}
}
