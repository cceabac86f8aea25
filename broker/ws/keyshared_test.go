package ws_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/causeway/causeway/broker/wsproto"
)

// TestKeySharedConsumersJoinAndLeave: three Key_Shared consumers over the
// WebSocket API, one leaving and another joining every 400 messages while
// a producer publishes 2,400 messages of 13 keys. Every message is
// delivered, and each key's messages are first delivered in publish order
// (that no two consumers hold one key at once is checked in subscription's
// shell and property tests, where holding is observable).
func TestKeySharedConsumersJoinAndLeave(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	const total, nkeys = 2400, 13
	path := consumerPath("ks", "sub", "subscriptionType=Key_Shared&subscriptionInitialPosition=Earliest&receiverQueueSize=50")

	var mu sync.Mutex
	firstLast := map[string]int{} // key -> last index first delivered
	seen := map[int]bool{}        // indexes delivered at least once
	closed := map[string]bool{}
	var failure string
	fail := func(format string, args ...any) {
		if failure == "" {
			failure = fmt.Sprintf(format, args...)
		}
	}
	done := make(chan struct{}) // closed once every message was seen

	var wg sync.WaitGroup
	type consumer struct {
		name string
		ws   *websocket.Conn
	}
	run := func(c consumer) {
		defer wg.Done()
		for {
			_, data, err := c.ws.ReadMessage()
			if err != nil {
				return // closed by leave or at the end
			}
			var m wsproto.ConsumerMessage
			if err := json.Unmarshal(data, &m); err != nil || m.MessageID == "" {
				mu.Lock()
				fail("%s: frame %s", c.name, data)
				mu.Unlock()
				return
			}
			i, err := strconv.Atoi(unb64(t, m.Payload))
			mu.Lock()
			if closed[c.name] {
				mu.Unlock()
				return
			}
			switch {
			case err != nil:
				fail("payload %q", m.Payload)
			case m.Key != fmt.Sprintf("k%d", i%nkeys):
				fail("message %d has key %q", i, m.Key)
			}
			if !seen[i] {
				if last, ok := firstLast[m.Key]; ok && i < last {
					fail("key %q: message %d first delivered after %d", m.Key, i, last)
				}
				firstLast[m.Key] = i
				seen[i] = true
				if len(seen) == total {
					close(done)
				}
			}
			mu.Unlock()
			if err := c.ws.WriteJSON(wsproto.ConsumerCommand{MessageID: m.MessageID}); err != nil {
				return
			}
		}
	}
	dialConsumer := func(name string) consumer {
		ws, status, body, err := tryDial(srv, path+"&consumerName="+name)
		if err != nil {
			t.Fatalf("consumer %s: %v (%d %s)", name, err, status, body)
		}
		c := consumer{name: name, ws: ws}
		wg.Add(1)
		go run(c)
		return c
	}
	leave := func(c consumer) {
		mu.Lock()
		defer mu.Unlock()
		closed[c.name] = true
		_ = c.ws.Close()
	}

	live := []consumer{dialConsumer("c0"), dialConsumer("c1"), dialConsumer("c2")}
	next := 3
	prod := dial(t, srv, producerPath("ks"))
	// Acks are read by another goroutine so publishing is pipelined.
	acks := make(chan error, 1)
	go func() {
		for range total {
			var ack wsproto.ProducerAck
			if err := prod.tryRecv(&ack, testTimeout); err != nil || !ack.OK() {
				acks <- fmt.Errorf("publish ack %+v: %v", ack, err)
				return
			}
		}
		acks <- nil
	}()
	for i := range total {
		b, _ := json.Marshal(wsproto.ProducerMessage{Payload: b64(strconv.Itoa(i)), Key: fmt.Sprintf("k%d", i%nkeys)})
		if err := prod.ws.WriteMessage(websocket.TextMessage, b); err != nil {
			t.Fatal(err)
		}
		if i%400 == 399 && i < total-1 {
			leave(live[0])
			live = append(live[1:], dialConsumer(fmt.Sprintf("c%d", next)))
			next++
		}
	}
	if err := <-acks; err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(testTimeout):
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		t.Fatalf("%d of %d messages delivered", n, total)
	}
	for _, c := range live {
		leave(c)
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if failure != "" {
		t.Fatal(failure)
	}
}
