package ws_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/wsbin"
	"github.com/causeway/causeway/broker/wsproto"
	"github.com/causeway/causeway/server"
)

// binClient speaks causeway-binary-v1 on one connection.
type binClient struct {
	t   *testing.T
	ws  *websocket.Conn
	buf []wsbin.Message // received and not yet returned by messages
}

const binaryQuery = wsbin.ProtocolParam + "=" + wsbin.Protocol

// dialBinary opens a connection asking for the binary protocol and checks
// that the server confirmed it.
func dialBinary(t *testing.T, srv *server.Server, path, query string) *binClient {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	u := "ws://" + srv.Addr() + path + sep + binaryQuery
	if query != "" {
		u += "&" + query
	}
	d := websocket.Dialer{HandshakeTimeout: testTimeout}
	c, resp, err := d.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if got := resp.Header.Get(wsbin.HeaderProtocol); got != wsbin.Protocol {
		t.Fatalf("%s header %q, want %q", wsbin.HeaderProtocol, got, wsbin.Protocol)
	}
	return &binClient{t: t, ws: c}
}

func (c *binClient) send(frame []byte) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.BinaryMessage, frame); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next reads one frame of any type.
func (c *binClient) next() (int, []byte) {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(testTimeout))
	typ, data, err := c.ws.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return typ, data
}

func (c *binClient) publishAck() wsbin.PublishAck {
	c.t.Helper()
	typ, data := c.next()
	if typ != websocket.BinaryMessage {
		c.t.Fatalf("expected a binary publish ack, got %s", data)
	}
	a, err := wsbin.DecodePublishAck(data)
	if err != nil {
		c.t.Fatalf("publish ack: %v", err)
	}
	return a
}

// publish sends one frame of msgs and returns its ack.
func (c *binClient) publish(context uint64, msgs ...wsbin.Publish) wsbin.PublishAck {
	c.t.Helper()
	c.send(wsbin.AppendPublish(nil, context, msgs))
	a := c.publishAck()
	if a.Context != context {
		c.t.Fatalf("ack context %d, want %d", a.Context, context)
	}
	return a
}

// messages returns the next n messages, reading message frames as needed;
// any other frame fails the test.
func (c *binClient) messages(n int) []wsbin.Message {
	c.t.Helper()
	for len(c.buf) < n {
		typ, data := c.next()
		if typ != websocket.BinaryMessage {
			c.t.Fatalf("expected messages, got text %s", data)
		}
		msgs, err := wsbin.DecodeMessages(data)
		if err != nil {
			c.t.Fatalf("messages frame: %v", err)
		}
		c.buf = append(c.buf, msgs...)
	}
	out := c.buf[:n:n]
	c.buf = c.buf[n:]
	return out
}

// errorFrame reads the next frame, which must be a binary error frame.
func (c *binClient) errorFrame() wsbin.ErrorFrame {
	c.t.Helper()
	_, data := c.next()
	e, err := wsbin.DecodeError(data)
	if err != nil {
		c.t.Fatalf("expected an error frame, got %x: %v", data, err)
	}
	return e
}

// quiet checks that nothing but the answer to a JSON isEndOfTopic arrives:
// what the server had pushed before the question would come first.
func (c *binClient) quiet() {
	c.t.Helper()
	if len(c.buf) > 0 {
		c.t.Fatalf("%d more messages than expected, from offset %d", len(c.buf), c.buf[0].ID.Offset)
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"isEndOfTopic"}`)); err != nil {
		c.t.Fatal(err)
	}
	typ, data := c.next()
	if typ != websocket.TextMessage || string(data) != `{"endOfTopic":false}` {
		c.t.Fatalf("expected only the endOfTopic answer, got type %d %x", typ, data)
	}
}

func acks(kind wsbin.AckKind, offsets ...uint64) []byte {
	a := make([]wsbin.Ack, len(offsets))
	for i, o := range offsets {
		a[i] = wsbin.Ack{Kind: kind, ID: wsproto.MessageID{Offset: o, Partition: -1}}
	}
	return wsbin.AppendAcks(nil, a)
}

func offsets(msgs []wsbin.Message) []uint64 {
	out := make([]uint64, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID.Offset
	}
	return out
}

// TestBinaryPublishAndConsume publishes pipelined binary batches and reads
// them back through a binary consumer (many messages per frame, acked many
// per frame) and a JSON consumer: the two protocols share the stream.
func TestBinaryPublishAndConsume(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	cons := dialBinary(t, srv, consumerPath("bin", "s", "subscriptionType=Exclusive&subscriptionInitialPosition=Earliest"), "")
	prod := dialBinary(t, srv, producerPath("bin"), "producerName=p1")
	const frames, per = 20, 50
	for f := range frames {
		msgs := make([]wsbin.Publish, per)
		for i := range msgs {
			n := f*per + i
			msgs[i] = wsbin.Publish{Payload: []byte(fmt.Sprintf("m%04d", n)), Key: fmt.Sprintf("k%d", n%7),
				Properties: map[string]string{"n": fmt.Sprint(n)}, SequenceID: int64(n), EventTime: 1700000000000 + int64(n)}
		}
		prod.send(wsbin.AppendPublish(nil, uint64(f), msgs))
	}
	for f := range frames {
		a := prod.publishAck()
		if a.Context != uint64(f) || a.Count != per || a.Refusal != nil {
			t.Fatalf("ack %d: %+v", f, a)
		}
		for i := range per {
			if r := a.Result(i); r.Status != wsbin.Stored || r.Offset != uint64(f*per+i) {
				t.Fatalf("frame %d message %d: %+v", f, i, r)
			}
		}
	}
	got := cons.messages(frames * per)
	for n, m := range got {
		if string(m.Payload) != fmt.Sprintf("m%04d", n) || m.ID.Offset != uint64(n) || m.Key != fmt.Sprintf("k%d", n%7) ||
			m.Properties["n"] != fmt.Sprint(n) || m.EventTime != 1700000000000+int64(n) || m.PublishTime == 0 || m.RedeliveryCount != 0 {
			t.Fatalf("message %d: %+v", n, m)
		}
	}
	for i := 0; i < len(got); i += 100 {
		cons.send(acks(wsbin.AckIndividual, offsets(got[i:i+100])...))
	}
	cons.quiet()

	js := dial(t, srv, consumerPath("bin", "json", "subscriptionType=Exclusive&subscriptionInitialPosition=Earliest"))
	m := js.receive()
	if unb64(t, m.Payload) != "m0000" || m.Key != "k0" || m.Properties["n"] != "0" || m.EventTime == "" {
		t.Fatalf("JSON consumer of a binary publish: %+v", m)
	}
}

// TestBinaryProducerRefusals checks that every producer limit applies to
// binary frames and answers clearly, that a refused frame stores nothing,
// that duplicates are recognised, and that acks come back in frame order
// even when a refusal is ready before an earlier frame is durable.
func TestBinaryProducerRefusals(t *testing.T) {
	srv := startNode(t, t.TempDir(), func(c *broker.Config) { c.MaxMessageBytes = 100; c.MaxBatchMessages = 5 })
	prod := dialBinary(t, srv, producerPath("lim"), "producerName=p")
	ok := func(s string, seq int64) wsbin.Publish { return wsbin.Publish{Payload: []byte(s), SequenceID: seq} }
	frames := [][]byte{
		wsbin.AppendPublish(nil, 1, []wsbin.Publish{ok("a", 1), ok(strings.Repeat("x", 101), 2), ok("c", 3)}),
		wsbin.AppendPublish(nil, 2, []wsbin.Publish{ok("1", -1), ok("2", -1), ok("3", -1), ok("4", -1), ok("5", -1), ok("6", -1)}),
		{byte(wsbin.TypePublish), 3, 1}, // truncated
		{0x07, 4},                       // unknown type
		wsbin.AppendPublishAck(nil, 5, []wsbin.PublishResult{{}}), // the wrong direction
		wsbin.AppendPublish(nil, 6, []wsbin.Publish{ok("a", 1)}),  // a re-send
		wsbin.AppendPublish(nil, 7, []wsbin.Publish{{Key: strings.Repeat("k", wsbin.MaxMetaBytes+1), Payload: []byte("k"), SequenceID: 4}}),
		wsbin.AppendPublish(nil, 8, []wsbin.Publish{ok("z", -1)}),
	}
	// The re-send goes after the original is durable: a pipelined re-send
	// is refused as a duplicate too, but the server learns the original's
	// offset only once it is stored.
	for _, f := range frames[:5] {
		prod.send(f)
	}
	want := []struct {
		context  uint64
		refusal  int // code of a whole-frame refusal
		statuses []wsbin.Status
	}{
		{1, 0, []wsbin.Status{wsbin.Stored, wsbin.Refused, wsbin.Stored}},
		{2, wsproto.ErrCodeDeserialize, nil},
		{3, wsproto.ErrCodeDeserialize, nil},
		{0, wsproto.ErrCodeDeserialize, nil},
		{0, wsproto.ErrCodeDeserialize, nil},
		{0, wsproto.ErrCodeDeserialize, nil}, // the text frame
		{6, 0, []wsbin.Status{wsbin.Duplicate}},
		{7, 0, []wsbin.Status{wsbin.Refused}},
		{8, 0, []wsbin.Status{wsbin.Stored}},
	}
	for i, w := range want {
		if i == 5 { // after the first five frames' acks
			// A JSON publish on a binary connection is refused in turn.
			if err := prod.ws.WriteMessage(websocket.TextMessage, []byte(`{"payload":"eA=="}`)); err != nil {
				t.Fatal(err)
			}
			for _, f := range frames[5:] {
				prod.send(f)
			}
		}
		a := prod.publishAck()
		if a.Context != w.context {
			t.Fatalf("ack %d: context %d, want %d (acks out of order?)", i, a.Context, w.context)
		}
		if w.refusal != 0 {
			if a.Refusal == nil || a.Refusal.Code != w.refusal || a.Refusal.Msg == "" {
				t.Fatalf("ack %d: %+v, want a refusal with code %d", i, a, w.refusal)
			}
			continue
		}
		if a.Refusal != nil || a.Count != len(w.statuses) {
			t.Fatalf("ack %d: %+v", i, a)
		}
		for j, st := range w.statuses {
			r := a.Result(j)
			if r.Status != st {
				t.Fatalf("ack %d result %d: %+v, want status %d", i, j, r, st)
			}
			if st == wsbin.Refused && (r.Code != wsproto.ErrCodePayloadTooLarge || !strings.Contains(r.Error, "limit")) {
				t.Fatalf("ack %d result %d: %+v, want code 9 naming the limit", i, j, r)
			}
		}
	}
	// The duplicate names the original; nothing refused was stored.
	rd := dialBinary(t, srv, "/ws/v2/reader/persistent/_mm/_system/lim?messageId=earliest", "")
	got := rd.messages(3)
	if string(got[0].Payload) != "a" || string(got[1].Payload) != "c" || string(got[2].Payload) != "z" {
		t.Fatalf("stored %q %q %q, want a c z", got[0].Payload, got[1].Payload, got[2].Payload)
	}
	rd.quiet()
}

// TestBinaryFlowControlAndAcks checks that binary push respects permits as
// the JSON push does (receiverQueueSize unacked messages at most; acks and
// nacks give permits back), and nacks, cumulative acks and bad acks.
func TestBinaryFlowControlAndAcks(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	prod := dialBinary(t, srv, producerPath("flow"), "")
	msgs := make([]wsbin.Publish, 30)
	for i := range msgs {
		msgs[i] = wsbin.Publish{Payload: []byte(fmt.Sprint(i)), SequenceID: -1}
	}
	if a := prod.publish(1, msgs...); a.Count != 30 || a.Result(29).Offset != 29 {
		t.Fatalf("publish: %+v", a)
	}
	cons := dialBinary(t, srv, consumerPath("flow", "s", "subscriptionType=Failover&subscriptionInitialPosition=Earliest&receiverQueueSize=10&negativeAckRedeliveryDelay=1"), "")
	first := cons.messages(10)
	cons.quiet() // no eleventh message without a permit
	cons.send(acks(wsbin.AckIndividual, 0, 1, 2, 3, 4))
	if got := offsets(cons.messages(5)); got[0] != 10 || got[4] != 14 {
		t.Fatalf("after 5 acks got offsets %v, want 10..14", got)
	}
	cons.quiet()
	// A nack gives a permit back and redelivers after the nack delay (the
	// new messages its permit and the acks' let through may come first).
	cons.send(acks(wsbin.Nack, 5))
	cons.send(acks(wsbin.AckIndividual, 6, 7, 8, 9, 10, 11, 12, 13, 14))
	highest := uint64(14)
	for n := 0; ; n++ {
		m := cons.messages(1)[0]
		if m.ID.Offset == 5 {
			if m.RedeliveryCount != 1 || string(m.Payload) != "5" || first[5].RedeliveryCount != 0 {
				t.Fatalf("redelivery: %+v", m)
			}
			break
		}
		if n == 30 || m.ID.Offset <= highest {
			t.Fatalf("offset %d delivered again before the nacked one was redelivered", m.ID.Offset)
		}
		highest = m.ID.Offset
		cons.send(acks(wsbin.AckIndividual, m.ID.Offset))
	}
	// A cumulative ack settles everything delivered up to it: the rest
	// of the stream follows.
	cons.send(acks(wsbin.AckCumulative, highest))
	if highest < 29 {
		if got := offsets(cons.messages(int(29 - highest))); got[0] != highest+1 || got[len(got)-1] != 29 {
			t.Fatalf("after the cumulative ack of %d got offsets %v", highest, got)
		}
	}
	cons.quiet()
	// Bad acks are answered with error frames naming the message; the
	// connection goes on.
	cons.send(wsbin.AppendAcks(nil, []wsbin.Ack{{ID: wsproto.MessageID{Stream: 3, Offset: 1}}}))
	if e := cons.errorFrame(); !e.HasID || e.ID.Stream != 3 || !strings.Contains(e.Error, "stream 3") {
		t.Fatalf("ack naming stream 3: %+v", e)
	}
	cons.send(wsbin.AppendPermit(nil, 5))
	if e := cons.errorFrame(); e.HasID || !strings.Contains(e.Error, "pull mode") {
		t.Fatalf("permit in push mode: %+v", e)
	}
	cons.send([]byte{byte(wsbin.TypeAcks), 5})
	if e := cons.errorFrame(); !strings.Contains(e.Error, "malformed") {
		t.Fatalf("truncated acks: %+v", e)
	}
	bad := make([]uint64, 20)
	for i := range bad {
		bad[i] = 1000 + uint64(i)
	}
	cons.send(acks(wsbin.AckIndividual, bad...)) // never delivered: 20 failures, 9 frames
	for i := range 8 {
		if e := cons.errorFrame(); !e.HasID || e.ID.Offset != 1000+uint64(i) {
			t.Fatalf("error %d: %+v", i, e)
		}
	}
	if e := cons.errorFrame(); !strings.Contains(e.Error, "12 more") {
		t.Fatalf("summary: %+v", e)
	}
	cons.quiet()
}

// TestBinaryPullModeAndReader checks permit frames (pull mode) and a binary
// reader whose acks refill its permits.
func TestBinaryPullModeAndReader(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	prod := dialBinary(t, srv, producerPath("pull"), "")
	msgs := make([]wsbin.Publish, 12)
	for i := range msgs {
		msgs[i] = wsbin.Publish{Payload: []byte(fmt.Sprint(i)), SequenceID: -1}
	}
	prod.publish(1, msgs...)

	pull := dialBinary(t, srv, consumerPath("pull", "s", "subscriptionType=Exclusive&subscriptionInitialPosition=Earliest&pullMode=true"), "")
	pull.quiet()
	pull.send(wsbin.AppendPermit(nil, 3))
	if got := offsets(pull.messages(3)); got[2] != 2 {
		t.Fatalf("pull consumer got %v", got)
	}
	pull.quiet()

	rd := dialBinary(t, srv, "/ws/v2/reader/persistent/_mm/_system/pull?messageId=earliest&receiverQueueSize=4", "")
	for round := range 3 {
		got := rd.messages(4)
		if got[0].ID.Offset != uint64(4*round) {
			t.Fatalf("round %d: offsets %v", round, offsets(got))
		}
		rd.quiet()
		rd.send(acks(wsbin.AckIndividual, offsets(got)...))
	}
	rd.send(acks(wsbin.Nack, 3))
	if e := rd.errorFrame(); !strings.Contains(e.Error, "negative ack") {
		t.Fatalf("nack on a reader: %+v", e)
	}
}

// TestBinaryProtocolParameter: an unknown protocol is refused on the
// upgrade; JSON connections carry no protocol header.
func TestBinaryProtocolParameter(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	for _, p := range []string{producerPath("pp"), consumerPath("pp", "s", ""), "/ws/v2/reader/persistent/_mm/_system/pp?"} {
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		_, status, body, err := tryDial(srv, p+sep+"protocol=causeway-binary-v9")
		if err == nil || status != http.StatusBadRequest || !strings.Contains(body, wsbin.Protocol) {
			t.Fatalf("%s: status %d, body %q", p, status, body)
		}
	}
	d := websocket.Dialer{HandshakeTimeout: testTimeout}
	c, resp, err := d.Dial("ws://"+srv.Addr()+producerPath("pp")+"?protocol=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if resp.Header.Get(wsbin.HeaderProtocol) != "" {
		t.Fatalf("JSON connection answered with %s", wsbin.HeaderProtocol)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
}

// TestProducerReconnectStoresOnce: a producer whose connection drops with
// frames in flight, and that resends them at once under the same name,
// stores each message once. The server keeps the old producer attached
// until its appends are durable and lets the new connection wait for it.
func TestProducerReconnectStoresOnce(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	const frames, per = 40, 100
	batch := func(f int) []byte {
		msgs := make([]wsbin.Publish, per)
		for i := range msgs {
			msgs[i] = wsbin.Publish{Payload: []byte(fmt.Sprint(f*per + i)), SequenceID: int64(f*per + i)}
		}
		return wsbin.AppendPublish(nil, uint64(f), msgs)
	}
	first := dialBinary(t, srv, producerPath("again"), "producerName=p")
	for f := range frames {
		first.send(batch(f))
	}
	_ = first.ws.NetConn().(*net.TCPConn).SetLinger(0)
	_ = first.ws.Close() // drop without waiting for any ack

	// Until the server has seen the drop, the name is busy (409), and
	// clients retry, as the Go client does.
	u := "ws://" + srv.Addr() + producerPath("again") + "?" + binaryQuery + "&producerName=p"
	var ws *websocket.Conn
	for attempt := 0; ws == nil; attempt++ {
		c, resp, err := websocket.DefaultDialer.Dial(u, nil)
		switch {
		case err == nil:
			ws = c
		case resp == nil || resp.StatusCode != http.StatusConflict || attempt == 100:
			t.Fatalf("reconnect: %v", err)
		default:
			<-time.After(10 * time.Millisecond) // the client's reconnect backoff
		}
	}
	t.Cleanup(func() { _ = ws.Close() })
	second := &binClient{t: t, ws: ws}
	for f := range frames {
		second.send(batch(f))
	}
	for f := range frames {
		a := second.publishAck()
		if a.Context != uint64(f) || a.Count != per {
			t.Fatalf("ack %d: %+v", f, a)
		}
		for i := range per {
			if r := a.Result(i); r.Status == wsbin.Refused {
				t.Fatalf("frame %d message %d refused: %+v", f, i, r)
			}
		}
	}
	second.publish(999, wsbin.Publish{Payload: []byte("end"), SequenceID: -1})
	rd := dialBinary(t, srv, "/ws/v2/reader/persistent/_mm/_system/again?messageId=earliest&receiverQueueSize=50000", "")
	for i, m := range rd.messages(frames*per + 1) {
		want := fmt.Sprint(i)
		if i == frames*per {
			want = "end"
		}
		if string(m.Payload) != want {
			t.Fatalf("message %d is %q: stored twice or lost", i, m.Payload)
		}
	}
}
