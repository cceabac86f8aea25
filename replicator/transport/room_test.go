package transport

import (
	"bytes"
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
	wan := link.Config{Latency: 20 * time.Millisecond}
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

// WaitRoom returns at once for a cut link or an unknown peer, and gives up
// when stop closes or after WriteTimeout while the peer does not drain.
func TestWaitRoomReturns(t *testing.T) {
	// A peer that never answers: nothing drains the queue.
	c, err := Listen(Config{Self: "c", Peers: map[string]string{"d": "127.0.0.1:1"}, ListenAddr: "127.0.0.1:0",
		Secret: testSecret, MaxQueuedFrames: 4, WriteTimeout: 200 * time.Millisecond}, newRecorder())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stop := make(chan struct{})
	if !c.WaitRoom("d", stop) || !c.WaitRoom("nobody", stop) {
		t.Fatal("no room on an empty queue or for an unknown peer")
	}
	for range 3 {
		c.Send("d", []byte("x"))
	}
	start := time.Now()
	if c.WaitRoom("d", stop) {
		t.Fatal("room with 3 of 4 frames queued")
	}
	if waited := time.Since(start); waited < 150*time.Millisecond || waited > 5*time.Second {
		t.Fatalf("gave up after %s, want the write timeout (200ms)", waited)
	}
	done := make(chan bool)
	go func() { done <- c.WaitRoom("d", stop) }()
	time.Sleep(20 * time.Millisecond)
	close(stop)
	if <-done {
		t.Fatal("room reported after stop closed")
	}
	// Cutting the link frees a waiting sender: its frames are dropped anyway.
	go func() { done <- c.WaitRoom("d", make(chan struct{})) }()
	time.Sleep(20 * time.Millisecond)
	if err := c.SetLinkDown("d", true); err != nil {
		t.Fatal(err)
	}
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("no room on a cut link")
		}
	case <-time.After(150 * time.Millisecond):
		t.Fatal("a waiting sender was not freed by a cut")
	}
}
