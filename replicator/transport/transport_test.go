package transport

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/internal/testnet"
	"github.com/causeway/causeway/replicator/link"
)

const testTimeout = 20 * time.Second

var testSecret = []byte("transport-test-secret-0123")

// recorder is a Handler that records what it gets.
type recorder struct {
	mu      sync.Mutex
	msgs    map[string][][]byte
	up      map[string]bool
	changed chan struct{}
}

func newRecorder() *recorder {
	return &recorder{msgs: map[string][][]byte{}, up: map[string]bool{}, changed: make(chan struct{})}
}

func (r *recorder) Receive(peer string, msg []byte) {
	r.mu.Lock()
	r.msgs[peer] = append(r.msgs[peer], msg)
	r.signalLocked()
	r.mu.Unlock()
}

func (r *recorder) PeerState(peer string, up bool) {
	r.mu.Lock()
	r.up[peer] = up
	r.signalLocked()
	r.mu.Unlock()
}

func (r *recorder) signalLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// wait waits until cond holds (checked under the lock).
func (r *recorder) wait(t *testing.T, what string, cond func(r *recorder) bool) {
	t.Helper()
	deadline := time.After(testTimeout)
	for {
		r.mu.Lock()
		ok, ch := cond(r), r.changed
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// pair starts transports a and b wired to each other.
func pair(t *testing.T, wan link.Config) (a, b *Transport, ra, rb *recorder) {
	t.Helper()
	addrs := testnet.FreeAddrs(t, 2)
	addrA, addrB := addrs[0], addrs[1]
	ra, rb = newRecorder(), newRecorder()
	var err error
	a, err = Listen(Config{Self: "a", Peers: map[string]string{"b": addrB}, ListenAddr: addrA, Secret: testSecret,
		WAN: wan, Seed: 1, Logger: zaptest.NewLogger(t)}, ra)
	if err != nil {
		t.Fatal(err)
	}
	b, err = Listen(Config{Self: "b", Peers: map[string]string{"a": addrA}, ListenAddr: addrB, Secret: testSecret,
		WAN: wan, Seed: 2, Logger: zaptest.NewLogger(t)}, rb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = a.Close()
		_ = b.Close()
	})
	return a, b, ra, rb
}

func TestSendReceiveAndLinkControl(t *testing.T) {
	a, b, ra, rb := pair(t, link.Config{})
	ra.wait(t, "a's link up", func(r *recorder) bool { return r.up["b"] })
	rb.wait(t, "b's link up", func(r *recorder) bool { return r.up["a"] })
	for i := range 100 {
		if !a.Send("b", []byte{byte(i), 1, 2, 3}) {
			t.Fatalf("send %d dropped", i)
		}
	}
	rb.wait(t, "100 messages", func(r *recorder) bool { return len(r.msgs["a"]) == 100 })
	for i, m := range rb.msgs["a"] {
		if !bytes.Equal(m, []byte{byte(i), 1, 2, 3}) {
			t.Fatalf("message %d = %v (order or content)", i, m)
		}
	}
	// Cut on a's side: a drops what it sends to b and what it gets from b.
	if err := a.SetLinkDown("b", true); err != nil {
		t.Fatal(err)
	}
	ra.wait(t, "a's link down", func(r *recorder) bool { return !r.up["b"] })
	if a.Send("b", []byte("lost")) {
		t.Fatal("send over a cut link succeeded")
	}
	b.Send("a", []byte("discarded"))
	// b -> a still flows at the TCP level; a discards it. Then heal and
	// check that a marker sent afterwards is the first thing a gets.
	waitLinks(t, a, func(l LinkStatus) bool { return l.LinkDrops >= 1 })
	waitInbound(t, a, "b", 1)
	if err := a.SetLinkDown("b", false); err != nil {
		t.Fatal(err)
	}
	ra.wait(t, "a's link up again", func(r *recorder) bool { return r.up["b"] })
	b.Send("a", []byte("after heal"))
	ra.wait(t, "message after heal", func(r *recorder) bool { return len(r.msgs["b"]) >= 1 })
	if got := string(ra.msgs["b"][0]); got != "after heal" {
		t.Fatalf("a got %q first", got)
	}
	if err := a.SetLinkDown("zz", true); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("unknown peer: %v", err)
	}
}

func waitLinks(t *testing.T, tr *Transport, cond func(LinkStatus) bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond(tr.Links()[0]) {
		if time.Now().After(deadline) {
			t.Fatalf("link status %+v", tr.Links()[0])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitInbound(t *testing.T, tr *Transport, peer string, n uint64) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for tr.peers[peer].inboundDrops.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("inbound drops %d, want %d", tr.peers[peer].inboundDrops.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReconnectAfterPeerRestart(t *testing.T) {
	addrs := testnet.FreeAddrs(t, 2)
	addrA, addrB := addrs[0], addrs[1]
	ra, rb := newRecorder(), newRecorder()
	cfg := func(self, peer, listen, peerAddr string) Config {
		return Config{Self: self, Peers: map[string]string{peer: peerAddr}, ListenAddr: listen, Secret: testSecret,
			Logger: zaptest.NewLogger(t), BackoffMin: time.Millisecond, BackoffMax: 20 * time.Millisecond}
	}
	a, err := Listen(cfg("a", "b", addrA, addrB), ra)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Listen(cfg("b", "a", addrB, addrA), rb)
	if err != nil {
		t.Fatal(err)
	}
	ra.wait(t, "up", func(r *recorder) bool { return r.up["b"] })
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	ra.wait(t, "down after b closed", func(r *recorder) bool { return !r.up["b"] })
	rb = newRecorder()
	b, err = Listen(cfg("b", "a", addrB, addrA), rb)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ra.wait(t, "up after b restarted", func(r *recorder) bool { return r.up["b"] })
	a.Send("b", []byte("hello again"))
	rb.wait(t, "message", func(r *recorder) bool { return len(r.msgs["a"]) == 1 })
}

func TestEmulatedLossAndBoundedQueues(t *testing.T) {
	a, _, _, rb := pair(t, link.Config{LossRate: 1})
	for range 50 {
		if a.Send("b", []byte("x")) {
			t.Fatal("a fully lossy link delivered")
		}
	}
	if l := a.Links()[0]; l.LinkDrops != 50 || l.Frames != 50 {
		t.Fatalf("link status %+v", l)
	}
	rb.mu.Lock()
	n := len(rb.msgs["a"])
	rb.mu.Unlock()
	if n != 0 {
		t.Fatalf("b received %d messages", n)
	}
	// A peer that never answers: the queue holds MaxQueuedFrames, the rest
	// is dropped; the delay queue holds MaxDelayedBytes.
	c, err := Listen(Config{Self: "c", Peers: map[string]string{"d": "127.0.0.1:1"}, ListenAddr: "127.0.0.1:0",
		Secret: testSecret, MaxQueuedFrames: 3, MaxDelayedBytes: 100, WAN: link.Config{}}, newRecorder())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 10 {
		c.Send("d", []byte("x"))
	}
	if l := c.Links()[0]; l.QueueDrops != 7 {
		t.Fatalf("queue drops %d, want 7: %+v", l.QueueDrops, l)
	}
	if err := c.SetWAN(link.Config{Latency: time.Hour}); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		c.Send("d", bytes.Repeat([]byte("y"), 30)) // 34 bytes framed: 2 fit in 100
	}
	if l := c.Links()[0]; l.Delayed != 2 || l.QueueDrops != 15 {
		t.Fatalf("delayed %d (want 2), queue drops %d (want 15)", l.Delayed, l.QueueDrops)
	}
	// The write queue is bounded in bytes too.
	e, err := Listen(Config{Self: "e", Peers: map[string]string{"d": "127.0.0.1:1"}, ListenAddr: "127.0.0.1:0",
		Secret: testSecret, MaxQueuedBytes: 100}, newRecorder())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for range 5 {
		e.Send("d", bytes.Repeat([]byte("z"), 40)) // 44 bytes framed: 2 fit in 100
	}
	if l := e.Links()[0]; l.QueueDrops != 3 {
		t.Fatalf("byte-bounded queue: %d drops, want 3", l.QueueDrops)
	}
}

func TestLatencyHoldsFramesBack(t *testing.T) {
	a, _, ra, rb := pair(t, link.Config{Latency: 30 * time.Millisecond, Jitter: 10 * time.Millisecond})
	ra.wait(t, "up", func(r *recorder) bool { return r.up["b"] })
	for i := range 20 {
		a.Send("b", []byte{byte(i)})
	}
	if l := a.Links()[0]; l.Delayed == 0 {
		t.Fatalf("nothing held back by a 30ms link: %+v", l)
	}
	rb.wait(t, "20 messages", func(r *recorder) bool { return len(r.msgs["a"]) == 20 })
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{
		{},
		{Self: "a", Secret: []byte("short")},
		{Self: "a", Secret: testSecret, Peers: map[string]string{"a": "x:1"}},
		{Self: "a", Secret: testSecret, Peers: map[string]string{"b": ""}},
		{Self: "a", Secret: testSecret, WAN: link.Config{LossRate: 2}},
	} {
		if _, err := Listen(c, newRecorder()); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

func TestReadFrame(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want []byte
		err  error
	}{
		{"frame", AppendFrame(nil, []byte("abc")), []byte("abc"), nil},
		{"empty stream", nil, nil, io.EOF},
		{"short header", []byte{0, 0}, nil, io.ErrUnexpectedEOF},
		{"zero length", []byte{0, 0, 0, 0}, nil, ErrFrameTooLarge},
		{"too large", []byte{0, 0, 1, 0}, nil, ErrFrameTooLarge},
		{"truncated body", []byte{0, 0, 0, 5, 'a'}, nil, io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		got, err := ReadFrame(bytes.NewReader(tc.in), 100)
		if !errors.Is(err, tc.err) || !bytes.Equal(got, tc.want) {
			t.Errorf("%s: %q, %v; want %q, %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add(AppendFrame(nil, []byte("hello")))
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		for {
			msg, err := ReadFrame(r, 64)
			if err != nil {
				return
			}
			if len(msg) == 0 || len(msg) > 64 {
				t.Fatalf("frame of %d bytes", len(msg))
			}
		}
	})
}
