package ws_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/wsproto"
)

// TestBadInputIsRefusedAndChangesNothing sends every kind of bad input and
// checks each gets a clear error while the node keeps serving and the log
// holds exactly the valid messages.
func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	srv := startNode(t, t.TempDir(), func(c *broker.Config) { c.MaxMessageBytes = 1024 })
	prod := dial(t, srv, producerPath("bad"))
	prod.publish("before")

	cases := []struct {
		frame, result string
	}{
		{`{"payload":`, "send-error:3"},
		{`not json at all`, "send-error:3"},
		{`{"payload":"***"}`, "send-error:7"},
		{`{"payload":"` + b64(strings.Repeat("x", 2000)) + `"}`, "send-error:9"},
		{`{"payload":"` + b64("x") + `","eventTime":"noon"}`, "send-error:7"},
		{`[]`, "send-error:3"},
	}
	for _, c := range cases {
		prod.send(c.frame)
		var ack wsproto.ProducerAck
		prod.recv(&ack)
		if ack.Result != c.result || ack.ErrorMsg == "" {
			t.Errorf("frame %.40q: got %+v, want %s with a message", c.frame, ack, c.result)
		}
	}
	prod.publish("after")

	// A frame beyond the read limit closes that connection with 1009 only.
	big := dial(t, srv, producerPath("bad"))
	big.send(strings.Repeat("x", 17<<20))
	_, _, err := big.ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Fatalf("oversize frame: got %v, want close 1009", err)
	}
	// Consumers and readers send only commands: a frame past 1 MiB closes
	// them the same way.
	for _, path := range []string{consumerPath("bad", "big", ""), "/ws/v2/reader/persistent/_mm/_system/bad"} {
		c := dial(t, srv, path)
		// Only the header of a 2 MiB text frame: the limit is checked on it.
		header := []byte{0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0x20, 0, 0, 1, 2, 3, 4}
		if _, err := c.ws.UnderlyingConn().Write(header); err != nil {
			t.Fatal(err)
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, _, err := c.ws.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
			t.Fatalf("%s: oversize command frame: got %v, want close 1009", path, err)
		}
	}

	// Invalid names are refused on the handshake.
	for _, p := range []string{
		"/ws/v2/producer/persistent/_mm/_system/bad%2Fname",
		"/ws/v2/producer/persistent/_mm/_system/..",
		"/ws/v2/producer/persistent/_mm/_system/" + strings.Repeat("n", 200),
		"/ws/v2/consumer/persistent/_mm/_system/bad/sub?subscriptionType=Bogus",
		"/ws/v2/consumer/persistent/_mm/_system/bad/sub?receiverQueueSize=-1",
		"/ws/v2/reader/persistent/_mm/_system/bad?messageId=not-base64!",
		"/ws/v2/launcher/persistent/_mm/_system/bad",
	} {
		_, status, body, err := tryDial(srv, p)
		if err == nil || status < 400 || status >= 500 || body == "" {
			t.Errorf("%s: status %d body %q err %v, want a 4xx with a message", p, status, body, err)
		}
	}

	// Consumer-side garbage gets error frames; the consumer keeps working.
	c := dial(t, srv, consumerPath("bad", "sub", "subscriptionType=Exclusive&subscriptionInitialPosition=Earliest&pullMode=true"))
	c.send(`{"type":"permit","permitMessages":1}`)
	first := c.receive()
	for _, frame := range []string{
		`{"messageId":"` + wsproto.MessageID{Offset: 999, Partition: -1}.Encode() + `"}`,
		`{"messageId":"garbage"}`,
		`{"type":"explode"}`,
		`{{{`,
		`{"type":"permit","permitMessages":0}`,
	} {
		c.send(frame)
		var e map[string]any
		c.recv(&e)
		if e["type"] != "error" || e["errorMsg"] == "" {
			t.Errorf("frame %q: got %v, want an error frame", frame, e)
		}
	}
	c.ack(first.MessageID)
	c.send(`{"type":"permit","permitMessages":1}`)
	if second := c.receive(); unb64(t, second.Payload) != "after" {
		t.Fatalf("consumer after bad frames got %q", unb64(t, second.Payload))
	}

	// The log holds exactly the two valid messages.
	code, body := httpDo(t, http.MethodGet, srv.URL()+"/_fabric/_system/_api/streams/bad")
	var resp struct {
		Result struct {
			Messages uint64 `json:"messages"`
		} `json:"result"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &resp) != nil || resp.Result.Messages != 2 {
		t.Fatalf("stream after bad input: %d %s", code, body)
	}
}

// TestSlowConsumerDoesNotStallOthers: a consumer that never reads holds
// only its permits; producers and other consumers go on.
func TestSlowConsumerDoesNotStallOthers(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	dial(t, srv, consumerPath("slow", "lazy", "subscriptionType=Exclusive&receiverQueueSize=10"))
	fast := dial(t, srv, consumerPath("slow", "fast", "subscriptionType=Exclusive&receiverQueueSize=100"))
	prod := dial(t, srv, producerPath("slow"))
	for i := 0; i < 500; i++ {
		prod.publish("m")
	}
	for i := 0; i < 500; i++ {
		fast.ack(fast.receive().MessageID)
	}
}

func TestAutoCreateOff(t *testing.T) {
	no := false
	srv := startNode(t, t.TempDir(), func(c *broker.Config) { c.AutoCreateStreams = &no })
	_, status, body, _ := tryDial(srv, producerPath("missing"))
	if status != http.StatusNotFound || !strings.Contains(body, "not found") {
		t.Fatalf("producer on missing stream with auto-create off: %d %q", status, body)
	}
	if code, body := httpDo(t, http.MethodPost, srv.URL()+"/_fabric/_system/_api/streams/missing"); code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	dial(t, srv, producerPath("missing")).publish("now it exists")
}

func TestSubscriptionsPerStreamAreBounded(t *testing.T) {
	srv := startNode(t, t.TempDir(), func(c *broker.Config) { c.MaxSubscriptionsPerStream = 2 })
	dial(t, srv, consumerPath("subs", "s1", ""))
	dial(t, srv, consumerPath("subs", "shared", "subscriptionType=Shared"))
	_, status, body, _ := tryDial(srv, consumerPath("subs", "s3", ""))
	if status != http.StatusTooManyRequests || !strings.Contains(body, "too many subscriptions") {
		t.Fatalf("third subscription: %d %q", status, body)
	}
	// An existing subscription still takes consumers.
	dial(t, srv, consumerPath("subs", "shared", "subscriptionType=Shared"))
}
