package transport

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/internal/testnet"
)

// A peer listed with three addresses of which the first two refuse is
// reached on the third in the first round: with a one-minute backoff, a
// wait per refused address would exceed the test's timeout.
func TestPeerListSkipsRefusingAddresses(t *testing.T) {
	addrs := testnet.FreeAddrs(t, 4)
	refused1, refused2, addrB, addrA := addrs[0], addrs[1], addrs[2], addrs[3]
	ra, rb := newRecorder(), newRecorder()
	// b listens first: a's first round must find it behind the two
	// refusing addresses (a round that fails whole backs off a minute).
	b, err := Listen(Config{Self: "b", Peers: map[string]string{"a": addrA}, ListenAddr: addrB, Secret: testSecret,
		Logger: zaptest.NewLogger(t)}, rb)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, err := Listen(Config{Self: "a", Peers: map[string]string{"b": strings.Join([]string{refused1, refused2, addrB}, ",")},
		ListenAddr: addrA, Secret: testSecret, Logger: zaptest.NewLogger(t),
		BackoffMin: time.Minute, BackoffMax: time.Minute}, ra)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ra.wait(t, "a's link to b up", func(r *recorder) bool { return r.up["b"] })
	if l := a.Links()[0]; l.Addr != addrB || !l.Connected {
		t.Fatalf("link status %+v, want connected to %s", l, addrB)
	}
	a.Send("b", []byte("over the third address"))
	rb.wait(t, "a's message", func(r *recorder) bool { return len(r.msgs["a"]) == 1 })
}

// When the node running a peer region's transport stops and another node
// of the region starts one (a new journal leader), the link follows it
// and messages flow again both ways; then it follows back.
func TestPeerListFollowsNewLeader(t *testing.T) {
	addrs := testnet.FreeAddrs(t, 4)
	addrA, addrB1, addrB2, deadA := addrs[0], addrs[1], addrs[2], addrs[3]
	ra := newRecorder()
	fast := func(c Config) Config {
		c.Secret, c.Logger = testSecret, zaptest.NewLogger(t)
		c.BackoffMin, c.BackoffMax = time.Millisecond, 20*time.Millisecond
		return c
	}
	a, err := Listen(fast(Config{Self: "a", Peers: map[string]string{"b": addrB1 + "," + addrB2}, ListenAddr: addrA}), ra)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// Region b's nodes list region a with a dead address first, so both
	// directions dial a list.
	startB := func(listen string) (*Transport, *recorder) {
		t.Helper()
		rb := newRecorder()
		b, err := Listen(fast(Config{Self: "b", Peers: map[string]string{"a": deadA + "," + addrA}, ListenAddr: listen}), rb)
		if err != nil {
			t.Fatal(err)
		}
		return b, rb
	}
	exchange := func(b *Transport, rb *recorder, at, what string) {
		t.Helper()
		ra.wait(t, "a's link up to "+at, func(r *recorder) bool { return r.up["b"] })
		if l := a.Links()[0]; l.Addr != at {
			t.Fatalf("a's link status %+v, want %s", l, at)
		}
		rb.wait(t, "b's link up", func(r *recorder) bool { return r.up["a"] })
		if l := b.Links()[0]; l.Addr != addrA {
			t.Fatalf("b's link status %+v, want %s", l, addrA)
		}
		// Frames queued while the link moved may or may not arrive (the
		// transport is at-most-once); what is sent now must.
		a.Send("b", []byte("a to "+what))
		rb.wait(t, "a's message at "+what, func(r *recorder) bool { return contains(r.msgs["a"], "a to "+what) })
		ra.mu.Lock()
		n := len(ra.msgs["b"])
		ra.mu.Unlock()
		b.Send("a", []byte("b to a from "+what))
		ra.wait(t, "b's message from "+what, func(r *recorder) bool { return contains(r.msgs["b"][n:], "b to a from "+what) })
	}

	b1, rb1 := startB(addrB1)
	exchange(b1, rb1, addrB1, "b1")
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}
	ra.wait(t, "a's link down after b1 stopped", func(r *recorder) bool { return !r.up["b"] })
	a.Send("b", []byte("while no leader")) // queued or dropped
	b2, rb2 := startB(addrB2)
	defer b2.Close()
	exchange(b2, rb2, addrB2, "b2")

	// And back to the first node.
	if err := b2.Close(); err != nil {
		t.Fatal(err)
	}
	ra.wait(t, "a's link down after b2 stopped", func(r *recorder) bool { return !r.up["b"] })
	b3, rb3 := startB(addrB1)
	defer b3.Close()
	exchange(b3, rb3, addrB1, "b3")
}

func contains(msgs [][]byte, want string) bool {
	for _, m := range msgs {
		if string(m) == want {
			return true
		}
	}
	return false
}
