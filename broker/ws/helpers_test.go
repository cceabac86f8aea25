package ws_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/wsproto"
	"github.com/causeway/causeway/server"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 20 * time.Second

func startNode(t *testing.T, dir string, mutate func(*broker.Config)) *server.Server {
	t.Helper()
	cfg := broker.Config{Region: "test", DataDir: dir, HTTPAddr: "127.0.0.1:0"}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := server.Start(cfg, zaptest.NewLogger(t).Named("node"))
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() { stopNode(t, srv) })
	return srv
}

func stopNode(t *testing.T, srv *server.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !strings.Contains(err.Error(), "already") {
		t.Logf("shutdown: %v", err)
	}
}

type client struct {
	t  *testing.T
	ws *websocket.Conn
}

// dial opens a WebSocket; it fails the test on refusal.
func dial(t *testing.T, srv *server.Server, pathAndQuery string) *client {
	t.Helper()
	c, status, body, err := tryDial(srv, pathAndQuery)
	if err != nil {
		t.Fatalf("dial %s: %v (status %d: %s)", pathAndQuery, err, status, body)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &client{t: t, ws: c}
}

// tryDial returns the HTTP status and body of a refused upgrade.
func tryDial(srv *server.Server, pathAndQuery string) (*websocket.Conn, int, string, error) {
	d := websocket.Dialer{HandshakeTimeout: testTimeout}
	c, resp, err := d.Dial("ws://"+srv.Addr()+pathAndQuery, nil)
	if err != nil {
		status, body := 0, ""
		if resp != nil {
			status = resp.StatusCode
			b, _ := io.ReadAll(resp.Body)
			body = string(b)
		}
		return nil, status, body, err
	}
	return c, 0, "", nil
}

func (c *client) send(v any) {
	c.t.Helper()
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			c.t.Fatal(err)
		}
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// recv reads one frame into v within the test timeout.
func (c *client) recv(v any) {
	c.t.Helper()
	if err := c.tryRecv(v, testTimeout); err != nil {
		c.t.Fatalf("recv: %v", err)
	}
}

func (c *client) tryRecv(v any, d time.Duration) error {
	_ = c.ws.SetReadDeadline(time.Now().Add(d))
	_, data, err := c.ws.ReadMessage()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", data, err)
	}
	return nil
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func unb64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("payload %q: %v", s, err)
	}
	return string(b)
}

// publish sends one message and waits for its ack.
func (c *client) publish(payload string) wsproto.ProducerAck {
	c.t.Helper()
	c.send(wsproto.ProducerMessage{Payload: b64(payload), Context: payload})
	var ack wsproto.ProducerAck
	c.recv(&ack)
	if !ack.OK() {
		c.t.Fatalf("publish %q: %+v", payload, ack)
	}
	return ack
}

// receive reads one pushed message.
func (c *client) receive() wsproto.ConsumerMessage {
	c.t.Helper()
	var m wsproto.ConsumerMessage
	c.recv(&m)
	if m.MessageID == "" {
		c.t.Fatalf("expected a message, got %+v", m)
	}
	return m
}

func (c *client) ack(id string) { c.send(wsproto.ConsumerCommand{MessageID: id}) }

func producerPath(stream string) string { return "/ws/v2/producer/persistent/_mm/_system/" + stream }

func consumerPath(stream, sub, query string) string {
	return "/ws/v2/consumer/persistent/_mm/_system/" + stream + "/" + sub + "?" + query
}

func httpDo(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
