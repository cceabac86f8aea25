package ws_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/wsproto"
)

// TestTenThousandMessages pushes 10,000 pipelined messages through one
// producer and reads them back in order through an exclusive consumer.
func TestTenThousandMessages(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	cons := dial(t, srv, consumerPath("bulk", "s", "subscriptionType=Exclusive&subscriptionInitialPosition=Earliest"))
	prod := dial(t, srv, producerPath("bulk"))
	const n = 10000
	acks := make(chan wsproto.ProducerAck, n)
	go func() {
		for i := 0; i < n; i++ {
			var a wsproto.ProducerAck
			if err := prod.tryRecv(&a, testTimeout); err != nil {
				close(acks)
				return
			}
			acks <- a
		}
		close(acks)
	}()
	for i := 0; i < n; i++ {
		prod.send(wsproto.ProducerMessage{Payload: b64(fmt.Sprintf("m%05d", i)), Context: fmt.Sprint(i)})
	}
	got := 0
	for a := range acks {
		if !a.OK() || a.Context != fmt.Sprint(got) {
			t.Fatalf("ack %d: %+v", got, a)
		}
		got++
	}
	if got != n {
		t.Fatalf("got %d acks, want %d", got, n)
	}
	for i := 0; i < n; i++ {
		m := cons.receive()
		if p := unb64(t, m.Payload); p != fmt.Sprintf("m%05d", i) {
			t.Fatalf("message %d: payload %q", i, p)
		}
		cons.ack(m.MessageID)
	}
}

func TestBatchPublishFrame(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	prod := dial(t, srv, producerPath("batch"))
	prod.send(`[{"payload":"` + b64("a") + `","context":"1"},{"payload":"%%%","context":"2"},{"payload":"` + b64("c") + `","context":"3"}]`)
	var acks []wsproto.ProducerAck
	prod.recv(&acks)
	if len(acks) != 3 || !acks[0].OK() || acks[1].OK() || !acks[2].OK() || acks[1].Result != "send-error:7" || acks[2].Context != "3" {
		t.Fatalf("batch acks: %+v", acks)
	}
	rd := dial(t, srv, "/ws/v2/reader/persistent/_mm/_system/batch?messageId=earliest")
	for _, want := range []string{"a", "c"} {
		if m := rd.receive(); unb64(t, m.Payload) != want {
			t.Fatalf("got %q want %q", unb64(t, m.Payload), want)
		}
	}
}

func TestExclusiveRefusesSecondConsumer(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	dial(t, srv, consumerPath("ex", "sub", "subscriptionType=Exclusive"))
	_, status, body, err := tryDial(srv, consumerPath("ex", "sub", "subscriptionType=Exclusive"))
	if err == nil || status != http.StatusConflict || !strings.Contains(strings.ToLower(body), "exclusive") {
		t.Fatalf("second exclusive consumer: err=%v status=%d body=%q", err, status, body)
	}
	_, status, body, _ = tryDial(srv, consumerPath("ex", "sub", "subscriptionType=Shared"))
	if status != http.StatusConflict {
		t.Fatalf("wrong type on existing subscription: status=%d body=%q", status, body)
	}
}

func TestFailoverTakeoverLosesNothing(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	q := "subscriptionType=Failover&subscriptionInitialPosition=Earliest&consumerName="
	a := dial(t, srv, consumerPath("fo", "sub", q+"a"))
	b := dial(t, srv, consumerPath("fo", "sub", q+"b"))
	prod := dial(t, srv, producerPath("fo"))
	for i := 0; i < 20; i++ {
		prod.publish(fmt.Sprint(i))
	}
	// "a" sorts first, so it is active: it takes 10 and acks 5.
	for i := 0; i < 10; i++ {
		m := a.receive()
		if p := unb64(t, m.Payload); p != fmt.Sprint(i) {
			t.Fatalf("active consumer got %q, want %d", p, i)
		}
		if i < 5 {
			a.ack(m.MessageID)
		}
	}
	// Make sure the acks are processed before a leaves: a round trip on a.
	a.send(`{"type":"isEndOfTopic"}`)
	for {
		var f map[string]any
		a.recv(&f)
		if _, ok := f["endOfTopic"]; ok {
			break
		}
	}
	_ = a.ws.Close()
	for i := 5; i < 20; i++ {
		m := b.receive()
		if p := unb64(t, m.Payload); p != fmt.Sprint(i) {
			t.Fatalf("after takeover got %q, want %d", p, i)
		}
		b.ack(m.MessageID)
	}
}

func TestSharedSpreadsMessages(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	q := "subscriptionType=Shared&receiverQueueSize=5&subscriptionInitialPosition=Earliest"
	cs := []*client{dial(t, srv, consumerPath("sh", "sub", q)), dial(t, srv, consumerPath("sh", "sub", q))}
	prod := dial(t, srv, producerPath("sh"))
	const n = 100
	for i := 0; i < n; i++ {
		prod.publish(fmt.Sprint(i))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	counts := make([]int, 2)
	var wg sync.WaitGroup
	for ci, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var m wsproto.ConsumerMessage
				if err := c.tryRecv(&m, testTimeout); err != nil {
					return
				}
				c.send(wsproto.ConsumerCommand{MessageID: m.MessageID})
				mu.Lock()
				seen[m.Payload]++
				counts[ci]++
				done := len(seen) == n
				mu.Unlock()
				if done {
					for _, other := range cs {
						_ = other.ws.Close() // unblock the other reader
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("received %d distinct messages, want %d", len(seen), n)
	}
	if counts[0] == 0 || counts[1] == 0 {
		t.Fatalf("shared subscription did not spread: %v", counts)
	}
	c0 := dial(t, srv, consumerPath("sh", "sub", q))
	c0.send(`{"type":"cumulativeAck","messageId":"` + wsproto.MessageID{Offset: 3, Partition: -1}.Encode() + `"}`)
	var e map[string]any
	c0.recv(&e)
	if e["type"] != "error" || !strings.Contains(fmt.Sprint(e["errorMsg"]), "umulative") {
		t.Fatalf("cumulative ack on shared: %v", e)
	}
}

func TestNackAndAckTimeoutRedeliver(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	prod := dial(t, srv, producerPath("rd"))
	c := dial(t, srv, consumerPath("rd", "nack", "subscriptionType=Shared&negativeAckRedeliveryDelay=20&subscriptionInitialPosition=Earliest"))
	prod.publish("x")
	m := c.receive()
	c.send(wsproto.ConsumerCommand{Type: wsproto.CmdNegativeAck, MessageID: m.MessageID})
	m2 := c.receive()
	if m2.MessageID != m.MessageID || m2.RedeliveryCount != 1 {
		t.Fatalf("after nack: %+v (first %+v)", m2, m)
	}
	c.ack(m2.MessageID)

	t2 := dial(t, srv, consumerPath("rd", "timeout", "subscriptionType=Shared&ackTimeoutMillis=100&subscriptionInitialPosition=Earliest"))
	first := t2.receive()
	again := t2.receive() // never acked: the ack timeout redelivers it
	if again.MessageID != first.MessageID || again.RedeliveryCount != 1 {
		t.Fatalf("after ack timeout: %+v", again)
	}
	t2.ack(again.MessageID)
}

func TestDeadLetterAfterMaxRedeliveries(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	prod := dial(t, srv, producerPath("dl"))
	c := dial(t, srv, consumerPath("dl", "sub", "subscriptionType=Shared&negativeAckRedeliveryDelay=10&maxRedeliverCount=2&subscriptionInitialPosition=Earliest"))
	dlq := dial(t, srv, consumerPath("dl-sub-DLQ", "watch", "subscriptionType=Exclusive&subscriptionInitialPosition=Earliest"))
	prod.publish("poison")
	prod.publish("fine")
	deliveries := 0
	for {
		var m wsproto.ConsumerMessage
		c.recv(&m)
		if unb64(t, m.Payload) == "fine" {
			c.ack(m.MessageID)
			continue
		}
		deliveries++
		if deliveries > 3 {
			t.Fatalf("poison delivered %d times with maxRedeliverCount=2", deliveries)
		}
		c.send(wsproto.ConsumerCommand{Type: wsproto.CmdNegativeAck, MessageID: m.MessageID})
		if m.RedeliveryCount == 2 {
			break
		}
	}
	d := dlq.receive()
	if unb64(t, d.Payload) != "poison" || d.Properties["REAL_TOPIC"] != "persistent://_mm/_system/dl" {
		t.Fatalf("dead letter: %+v", d)
	}
}

func TestSeekResetsCursor(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	prod := dial(t, srv, producerPath("sk"))
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, prod.publish(fmt.Sprint(i)).MessageID)
	}
	c := dial(t, srv, consumerPath("sk", "sub", "subscriptionType=Exclusive&subscriptionInitialPosition=Earliest"))
	for i := 0; i < 5; i++ {
		c.ack(c.receive().MessageID)
	}
	base := srv.URL() + "/_fabric/_system/_api/streams/sk/subscriptions/sub/reset"
	if code, body := httpDo(t, http.MethodPost, base+"?messageId="+ids[2]); code != http.StatusOK {
		t.Fatalf("reset: %d %s", code, body)
	}
	if p := unb64(t, c.receive().Payload); p != "2" {
		t.Fatalf("after seek to id 2 got %q", p)
	}
	if code, _ := httpDo(t, http.MethodPost, base+"?messageId=garbage"); code != http.StatusBadRequest {
		t.Fatalf("reset to garbage id: %d", code)
	}
	if code, _ := httpDo(t, http.MethodPost, base+"?timestamp=0"); code != http.StatusOK {
		t.Fatalf("reset by time: %d", code)
	}
}

func TestRestartKeepsCursorsAndMessages(t *testing.T) {
	dir := t.TempDir()
	srv := startNode(t, dir, nil)
	prod := dial(t, srv, producerPath("rs"))
	for i := 0; i < 20; i++ {
		prod.publish(fmt.Sprint(i))
	}
	c := dial(t, srv, consumerPath("rs", "sub", "subscriptionType=Exclusive&subscriptionInitialPosition=Earliest"))
	for i := 0; i < 10; i++ {
		c.ack(c.receive().MessageID)
	}
	c.send(`{"type":"isEndOfTopic"}`) // round trip: acks above are processed
	for {
		var f map[string]any
		c.recv(&f)
		if _, ok := f["endOfTopic"]; ok {
			break
		}
	}
	stopNode(t, srv)

	srv2 := startNode(t, dir, func(c *broker.Config) { c.HTTPAddr = "127.0.0.1:0" })
	c2 := dial(t, srv2, consumerPath("rs", "sub", "subscriptionType=Exclusive"))
	for i := 10; i < 20; i++ {
		m := c2.receive()
		if p := unb64(t, m.Payload); p != fmt.Sprint(i) {
			t.Fatalf("after restart got %q, want %d", p, i)
		}
		c2.ack(m.MessageID)
	}
	rd := dial(t, srv2, "/ws/v2/reader/persistent/_mm/_system/rs?messageId=earliest")
	for i := 0; i < 20; i++ {
		m := rd.receive()
		if p := unb64(t, m.Payload); p != fmt.Sprint(i) {
			t.Fatalf("reader after restart got %q, want %d", p, i)
		}
		rd.ack(m.MessageID)
	}
}
