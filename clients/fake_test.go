package clients

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/causeway/causeway/broker/wsproto"
)

// waitTimeout bounds every wait in these tests; it is only reached when a
// test fails.
const waitTimeout = 10 * time.Second

// fakeServer is a WebSocket endpoint that hands each accepted connection to
// the test, which reads the client's frames and answers them itself. It
// speaks only what the test writes; the checks on what the client sends use
// broker/wsproto, the decoders the real server uses.
type fakeServer struct {
	srv      *httptest.Server
	conns    chan *fakeConn
	upgrades atomic.Int32 // upgrade requests, refused ones included

	mu      sync.Mutex
	refuse  func(r *http.Request) (status int, body string)
	all     []*fakeConn
	lastSeq string // sent as the X-Causeway-Last-Sequence-Id response header when set
}

// fakeConn is one accepted connection. Only the test goroutine writes.
type fakeConn struct {
	ws     *websocket.Conn
	req    *http.Request
	frames chan []byte   // text frames from the client, in order
	gone   chan struct{} // closed when the client side has ended
}

func newFakeServer(t testing.TB) *fakeServer {
	t.Helper()
	f := &fakeServer{conns: make(chan *fakeConn, 16)}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.upgrades.Add(1)
		f.mu.Lock()
		refuse := f.refuse
		f.mu.Unlock()
		if refuse != nil {
			if status, body := refuse(r); status != 0 {
				http.Error(w, body, status)
				return
			}
		}
		var h http.Header
		f.mu.Lock()
		if f.lastSeq != "" {
			h = http.Header{lastSequenceHeader: {f.lastSeq}}
		}
		f.mu.Unlock()
		ws, err := up.Upgrade(w, r, h)
		if err != nil {
			return
		}
		c := &fakeConn{ws: ws, req: r, frames: make(chan []byte, 1024), gone: make(chan struct{})}
		f.mu.Lock()
		f.all = append(f.all, c)
		f.mu.Unlock()
		f.conns <- c
		defer close(c.gone)
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			c.frames <- data
		}
	}))
	t.Cleanup(func() {
		f.srv.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, c := range f.all {
			_ = c.ws.Close()
		}
	})
	return f
}

func (f *fakeServer) setRefuse(fn func(r *http.Request) (int, string)) {
	f.mu.Lock()
	f.refuse = fn
	f.mu.Unlock()
}

// client returns a client of this server with fast reconnects.
func (f *fakeServer) client(t testing.TB, opts ...Option) *Client {
	t.Helper()
	c, err := New(f.srv.URL, append([]Option{WithReconnectBackoff(time.Millisecond, 5*time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// accept waits for the next connection.
func (f *fakeServer) accept(t testing.TB) *fakeConn {
	t.Helper()
	select {
	case c := <-f.conns:
		return c
	case <-time.After(waitTimeout):
		t.Fatal("no connection from the client")
		return nil
	}
}

// next waits for the client's next frame.
func (c *fakeConn) next(t *testing.T) []byte {
	t.Helper()
	select {
	case b := <-c.frames:
		return b
	case <-time.After(waitTimeout):
		t.Fatal("no frame from the client")
		return nil
	}
}

// send writes v as a JSON text frame.
func (c *fakeConn) send(t *testing.T, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		t.Fatalf("fake server write: %v", err)
	}
}

// drop cuts the TCP connection without a close frame, as a crash would.
func (c *fakeConn) drop() { _ = c.ws.NetConn().(*net.TCPConn).SetLinger(0); _ = c.ws.Close() }

// closeWith sends a close frame with a reason, as the server does on
// runtime errors.
func (c *fakeConn) closeWith(t *testing.T, code int, reason string) {
	t.Helper()
	msg := websocket.FormatCloseMessage(code, reason)
	if err := c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
}

// publishes decodes a producer frame the way the server does.
func publishes(t *testing.T, frame []byte) []wsproto.DecodedPublish {
	t.Helper()
	if wsproto.IsBatch(frame) {
		msgs, errs, err := wsproto.DecodeProducerBatch(frame, 1<<20, 0)
		if err != nil {
			t.Fatalf("server would reject batch %s: %v", frame, err)
		}
		for i, e := range errs {
			if e != nil {
				t.Fatalf("server would reject message %d of %s: %v", i, frame, e)
			}
		}
		return msgs
	}
	m, err := wsproto.DecodeProducerMessage(frame, 1<<20)
	if err != nil {
		t.Fatalf("server would reject %s: %v", frame, err)
	}
	return []wsproto.DecodedPublish{m}
}

// ackAll answers a producer frame with ok acks, offsets from *next on,
// shaped as the server shapes them (an array for a batch).
func (c *fakeConn) ackAll(t *testing.T, frame []byte, next *uint64) []wsproto.DecodedPublish {
	t.Helper()
	msgs := publishes(t, frame)
	acks := make([]wsproto.ProducerAck, len(msgs))
	for i, m := range msgs {
		acks[i] = wsproto.ProducerAck{Result: "ok", MessageID: wsproto.MessageID{Offset: *next, Partition: -1}.Encode(), Context: m.Frame.Context}
		*next++
	}
	if wsproto.IsBatch(frame) {
		c.send(t, acks)
	} else {
		c.send(t, acks[0])
	}
	return msgs
}

// push sends a message to a consumer or reader.
func (c *fakeConn) push(t *testing.T, id wsproto.MessageID, payload string, redeliveries int) string {
	t.Helper()
	raw := id.Encode()
	c.send(t, wsproto.ConsumerMessage{
		MessageID: raw, Payload: b64(payload), Properties: map[string]string{"n": payload},
		PublishTime: wsproto.FormatTime(1700000000000), RedeliveryCount: redeliveries, Key: "k-" + payload,
	})
	return raw
}

// command reads the client's next frame, checks that the server's decoder
// accepts it, and returns it as text.
func (c *fakeConn) command(t *testing.T) string {
	t.Helper()
	b := c.next(t)
	if _, _, err := wsproto.DecodeConsumerCommand(b); err != nil {
		t.Fatalf("server would reject %s: %v", b, err)
	}
	return string(b)
}

func mid(offset uint64) wsproto.MessageID { return wsproto.MessageID{Offset: offset, Partition: -1} }
