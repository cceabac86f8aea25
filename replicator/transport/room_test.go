package transport

import (
	"bytes"
	"net"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/internal/testnet"
	"github.com/causeway/causeway/replicator/link"
)

// A sender that waits for room goes at the link's pace: over a slow link
// with small bounds, frames that would overflow them are held back in
// the sender instead of dropped. The same burst without waiting drops.
func TestWaitRoomKeepsPaceWithTheLink(t *testing.T) {
	const frames, size = 120, 8 << 10
	wan := link.Config{Latency: 50 * time.Millisecond}
	for _, wait := range []bool{true, false} {
		addrs := testnet.FreeAddrs(t, 2)
		ra, rb := newRecorder(), newRecorder()
		// a holds at most 64 KiB back (8 frames); 4 are in flight at once
		// after waiting for room (half of it).
		a, err := Listen(Config{Self: "a", Peers: map[string]string{"b": addrs[1]}, ListenAddr: addrs[0], Secret: testSecret,
			WAN: wan, MaxDelayedBytes: 64 << 10, Logger: zaptest.NewLogger(t)}, ra)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Listen(Config{Self: "b", Peers: map[string]string{"a": addrs[0]}, ListenAddr: addrs[1], Secret: testSecret,
			Logger: zaptest.NewLogger(t)}, rb)
		if err != nil {
			t.Fatal(err)
		}
		ra.wait(t, "a's link up", func(r *recorder) bool { return r.up["b"] })
		stop := make(chan struct{})
		for i := range frames {
			if wait && !a.WaitRoom("b", stop) {
				t.Fatalf("frame %d: no room", i)
			}
			a.Send("b", bytes.Repeat([]byte{byte(i)}, size))
		}
		drops := a.Links()[0].QueueDrops
		if !wait {
			if drops == 0 {
				t.Fatal("a burst past the bounds without waiting dropped nothing: the test shows nothing")
			}
		} else {
			if drops != 0 {
				t.Fatalf("waiting for room, %d frames dropped", drops)
			}
			rb.wait(t, "every frame", func(r *recorder) bool { return len(r.msgs["a"]) == frames })
			for i, m := range rb.msgs["a"] {
				if len(m) != size || m[0] != byte(i) {
					t.Fatalf("frame %d: %d bytes of %d (order or content)", i, len(m), m[0])
				}
			}
		}
		_ = a.Close()
		_ = b.Close()
	}
}

// WaitRoom returns at once for an unknown peer or one not connected;
// while a connection does not drain it waits, and goes on when stop
// closes (false), the link is cut, or the stuck connection times out.
func TestWaitRoomReturns(t *testing.T) {
	// Never connected: nothing would drain a wait.
	c, err := Listen(Config{Self: "c", Peers: map[string]string{"d": "127.0.0.1:1"}, ListenAddr: "127.0.0.1:0",
		Secret: testSecret, MaxQueuedFrames: 4}, newRecorder())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 4 {
		c.Send("d", []byte("x"))
	}
	stop := make(chan struct{})
	if !c.WaitRoom("d", stop) || !c.WaitRoom("nobody", stop) {
		t.Fatal("waited for a peer never connected or unknown")
	}

	// A peer that accepts and never reads: once its socket is full, the
	// queue stays full.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	e, err := Listen(Config{Self: "e", Peers: map[string]string{"d": ln.Addr().String()}, ListenAddr: "127.0.0.1:0",
		Secret: testSecret, MaxQueuedBytes: 1 << 20, WriteTimeout: 2 * time.Second}, newRecorder())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	waitLinks(t, e, func(l LinkStatus) bool { return l.Connected })
	// Send until the sockets are full and the queue holds three frames
	// (more than half of its 1 MiB) that stay there.
	p, frame := e.peers["d"], make([]byte, 256<<10)
	for i := 0; ; i++ {
		if i == 2000 {
			t.Fatal("500 MB sent to a peer that reads nothing, and the queue never filled")
		}
		if p.queuedBytes.Load() >= 3<<18 {
			time.Sleep(100 * time.Millisecond)
			if p.queuedBytes.Load() >= 3<<18 {
				break
			}
		}
		e.Send("d", frame)
		time.Sleep(time.Millisecond)
	}
	wait := func(stop chan struct{}) chan bool {
		done := make(chan bool, 1)
		go func() { done <- e.WaitRoom("d", stop) }()
		return done
	}
	// waiting starts a wait and checks it does not end on its own.
	waiting := func(stop chan struct{}) chan bool {
		done := wait(stop)
		select {
		case <-done:
			t.Fatalf("room on a full queue that does not drain: %+v", e.Links()[0])
		case <-time.After(100 * time.Millisecond):
		}
		return done
	}
	done := waiting(stop)
	close(stop)
	if <-done {
		t.Fatal("room reported after stop closed")
	}
	done = waiting(make(chan struct{}))
	if err := e.SetLinkDown("d", true); err != nil {
		t.Fatal(err)
	}
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("no room on a cut link")
		}
	case <-time.After(time.Second):
		t.Fatal("a waiting sender was not freed by a cut")
	}
	if err := e.SetLinkDown("d", false); err != nil {
		t.Fatal(err)
	}
	// The writer's deadline breaks the stuck connection, which frees the
	// sender (its next frames go to the next connection, or are dropped).
	select {
	case <-wait(make(chan struct{})):
	case <-time.After(10 * time.Second):
		t.Fatal("a sender waited past the stuck connection's write timeout")
	}
}
