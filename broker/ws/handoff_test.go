package ws_test

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// lingeringProxy forwards one connection to addr and, when the client side
// closes, keeps the server side open until release is closed: the server
// has not read the drop yet when the client comes back.
func lingeringProxy(t *testing.T, addr string, release <-chan struct{}) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		in, err := ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", addr)
		if err != nil {
			in.Close()
			return
		}
		go func() { _, _ = io.Copy(in, out) }()
		_, _ = io.Copy(out, in) // until the client closes
		in.Close()
		<-release
		out.Close()
	}()
	return ln.Addr().String()
}

// TestProducerReconnectBeforeTheServerSeesTheDrop: a producer that comes
// back under its name while the server still holds its dropped connection
// attaches once the old one is gone, instead of a 409.
func TestProducerReconnectBeforeTheServerSeesTheDrop(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	release := make(chan struct{})
	proxy := lingeringProxy(t, srv.Addr(), release)
	old, _, err := websocket.DefaultDialer.Dial("ws://"+proxy+producerPath("linger")+"?producerName=p", nil)
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	time.AfterFunc(300*time.Millisecond, func() { close(release) }) // the server reads the drop late
	ws, code, body, err := tryDial(srv, producerPath("linger")+"?producerName=p")
	if err != nil {
		t.Fatalf("reconnect: %d %s %v", code, body, err)
	}
	ws.Close()
}

// TestSecondLiveProducerRefused: while a producer under a name is connected
// and alive, another connection under the name is refused (409).
func TestSecondLiveProducerRefused(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	dial(t, srv, producerPath("twice")+"?producerName=p")
	_, code, _, err := tryDial(srv, producerPath("twice")+"?producerName=p")
	if err == nil || code != http.StatusConflict {
		t.Fatalf("second producer: %d %v, want 409", code, err)
	}
}
