package ws

import (
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/causeway/causeway/internal/wsbatch"
)

// TestConnPushKeepsEachSendersOrder drives one connection from goroutines
// that push (writing themselves when nothing is queued) and goroutines that
// send (through the writer), with a small queue so that both paths are
// taken: the client must see every frame once and each sender's frames in
// the order they were given.
func TestConnPushKeepsEachSendersOrder(t *testing.T) {
	const senders, frames = 4, 3000
	var server *conn
	ready := make(chan struct{})
	var bufs sync.Pool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj := &wsbatch.Hijacker{ResponseWriter: w}
		wsc, err := (&websocket.Upgrader{}).Upgrade(hj, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		server = newConn(wsc, hj.Conn, &bufs, zap.NewNop(), 2, time.Hour)
		close(ready)
	}))
	defer srv.Close()
	cl, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	<-ready

	var wg sync.WaitGroup
	for id := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := range frames {
				f := outFrame{data: binary.BigEndian.AppendUint32([]byte{byte(id)}, uint32(seq)), binary: true}
				ok := false
				if id%2 == 0 {
					ok = server.push(f)
				} else {
					ok = server.send(f)
				}
				if !ok {
					t.Errorf("sender %d: frame %d refused", id, seq)
					return
				}
			}
		}()
	}
	next := make([]uint32, senders)
	_ = cl.SetReadDeadline(time.Now().Add(30 * time.Second))
	for range senders * frames {
		_, data, err := cl.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v (next %v)", err, next)
		}
		id, seq := data[0], binary.BigEndian.Uint32(data[1:])
		if seq != next[id] {
			t.Fatalf("sender %d: frame %d arrived when %d was due", id, seq, next[id])
		}
		next[id]++
	}
	wg.Wait()
	if q := server.queued.Load(); q != 0 {
		t.Fatalf("queued = %d after every frame was written, want 0", q)
	}
	server.close(websocket.CloseNormalClosure, "done")
	<-server.done
	if server.push(outFrame{data: []byte{0}}) {
		t.Fatal("push after close succeeded")
	}
}
