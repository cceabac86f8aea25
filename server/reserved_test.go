package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/server"
)

// startOpenKafka starts a node without authentication, with the Kafka listener.
func startOpenKafka(t *testing.T) *node {
	t.Helper()
	cfg := broker.Config{Region: "test", DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", KafkaAddr: "127.0.0.1:0"}
	srv, err := server.Start(cfg, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)).Named("node"))
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	cl := &http.Client{Timeout: testTimeout, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	return &node{t: t, srv: srv, http: cl}
}

// streamEndOffset is a stream's end offset as the stream admin API shows it.
func (n *node) streamEndOffset(stream string) float64 {
	n.t.Helper()
	r := n.must("GET", "/_fabric/_system/_api/streams/"+stream, "", nil, http.StatusOK)
	end, _ := r.result()["endOffset"].(float64)
	return end
}

// TestReservedStreamsRefuseClientWrites: with authentication off (nothing
// else in the way), a collection's op log and change feed refuse a
// WebSocket producer, a kafka-go producer and deletion through the stream
// API, and nothing is written; the change feed stays readable, and the
// collection keeps writing both.
func TestReservedStreamsRefuseClientWrites(t *testing.T) {
	n := startOpenKafka(t)
	const sys = "/_fabric/_system/_api/"
	n.must("POST", sys+"collection", "", map[string]any{"name": "x"}, http.StatusOK)
	n.must("POST", sys+"document/x", "", map[string]any{"_key": "a", "v": 1}, http.StatusCreated)
	pollUntil(t, func() bool { return n.streamEndOffset("_changes.x") == 1 }, "the first change event")
	streams := []string{"_changes.x", "_col.x"}

	for _, s := range streams {
		before := n.streamEndOffset(s)
		_, status, body, err := n.dial("/ws/v2/producer/persistent/_mm/_system/"+s, "", false)
		if err == nil || status != http.StatusForbidden || !strings.Contains(body, "reserved stream") {
			t.Fatalf("WebSocket producer on %s: %v, %d %q; want 403 reserved stream", s, err, status, body)
		}

		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		w := &kafkago.Writer{Addr: kafkago.TCP(n.srv.KafkaAddr()), Topic: s, RequiredAcks: kafkago.RequireAll, MaxAttempts: 3,
			WriteBackoffMin: time.Millisecond, WriteBackoffMax: 10 * time.Millisecond}
		err = w.WriteMessages(ctx, kafkago.Message{Key: []byte("a"), Value: []byte(`{"forged":true}`)})
		cancel()
		_ = w.Close()
		if err == nil || !strings.Contains(err.Error(), "Invalid Topic") {
			t.Fatalf("kafka-go producer on %s: %v, want Invalid Topic", s, err)
		}

		r := n.do("DELETE", sys+"streams/"+s+"?force=true", "", nil)
		if r.code != http.StatusForbidden || !strings.Contains(string(r.body), "reserved stream") {
			t.Fatalf("DELETE stream %s: %d %s, want 403 reserved stream", s, r.code, r.body)
		}
		if after := n.streamEndOffset(s); after != before {
			t.Fatalf("%s went from %v to %v messages after refused writes", s, before, after)
		}
	}

	// The change feed is read as before, and the collection goes on.
	c := n.mustDial("/ws/v2/reader/persistent/_mm/_system/_changes.x?messageId=earliest", "", false)
	_ = c.SetReadDeadline(time.Now().Add(testTimeout))
	var m struct {
		Key     string `json:"key"`
		Payload string `json:"payload"`
	}
	if err := c.ReadJSON(&m); err != nil || m.Key != "a" {
		t.Fatalf("change feed reader: %+v, %v", m, err)
	}
	n.must("POST", sys+"document/x", "", map[string]any{"_key": "b", "v": 2}, http.StatusCreated)
	pollUntil(t, func() bool { return n.streamEndOffset("_changes.x") == 2 && n.streamEndOffset("_col.x") == 2 }, "the second write in both streams")
	n.must("DELETE", sys+"collection/x", "", nil, http.StatusOK)
	for _, s := range streams {
		n.must("GET", sys+"streams/"+s, "", nil, http.StatusNotFound)
	}
}

// pollUntil polls cond until it holds or the test times out.
func pollUntil(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
