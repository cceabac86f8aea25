// Package testnet hands tests loopback addresses to give a node before it
// starts. Tests that start several nodes wired to each other need every
// address up front, so they cannot let each node bind ":0".
//
// The usual trick (bind ":0", note the port, close) races with every
// outgoing connection on the machine: the kernel hands out the same
// ephemeral range for both, and under parallel test packages a client
// socket often takes the port before the node binds it. testnet picks
// ports below the ephemeral range instead (Linux default: 32768–60999),
// where only other listeners can collide, and checks each one is free.
package testnet

import (
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"testing"
)

// Ports are drawn from [lowPort, highPort): below Linux's and macOS's
// ephemeral ranges and above the well-known and most registered services.
const (
	lowPort  = 20000
	highPort = 32000
)

// FreeAddr returns one loopback address nothing listens on right now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return FreeAddrs(t, 1)[0]
}

// FreeAddrs returns n distinct loopback addresses nothing listens on
// right now. Each is bound while the others are chosen, then released.
func FreeAddrs(t testing.TB, n int) []string {
	t.Helper()
	return FreeAddrsExcept(t, n, nil)
}

// FreeAddrsExcept is FreeAddrs never returning an address of taken: those
// a test drew earlier for nodes that do not listen yet (drawn again, one
// would be given to two listeners).
func FreeAddrsExcept(t testing.TB, n int, taken []string) []string {
	t.Helper()
	addrs := make([]string, 0, n)
	held := make([]net.Listener, 0, n)
	defer func() {
		for _, ln := range held {
			_ = ln.Close()
		}
	}()
	for tries := 0; len(addrs) < n; tries++ {
		if tries > 1000 {
			t.Fatalf("testnet: no free port in [%d, %d) after %d tries", lowPort, highPort, tries)
		}
		addr := fmt.Sprintf("127.0.0.1:%d", lowPort+rand.IntN(highPort-lowPort))
		if slices.Contains(taken, addr) {
			continue
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		held = append(held, ln)
		addrs = append(addrs, addr)
	}
	return addrs
}

// FreeRange returns the first of n consecutive loopback ports nothing
// listens on right now, for programs configured with a base port (such as
// `causeway dev --repl-port`). A test that needs several ranges takes them
// from one FreeRanges call.
func FreeRange(t testing.TB, n int) int {
	t.Helper()
	return FreeRanges(t, n)[0]
}

// FreeRanges returns the first ports of len(sizes) ranges of consecutive
// loopback ports, the i-th sizes[i] long, that nothing listens on right
// now and that do not overlap. (FreeRange called once per range could hand
// out overlapping ones: each range is free when drawn and released before
// the next is drawn.) Every range stays bound until all are chosen.
func FreeRanges(t testing.TB, sizes ...int) []int {
	t.Helper()
	var held []net.Listener
	defer func() {
		for _, ln := range held {
			_ = ln.Close()
		}
	}()
	bases := make([]int, 0, len(sizes))
	for _, n := range sizes {
		base, lns := holdRange(n)
		if lns == nil {
			t.Fatalf("testnet: no %d consecutive free ports in [%d, %d)", n, lowPort, highPort)
		}
		held = append(held, lns...)
		bases = append(bases, base)
	}
	return bases
}

// holdRange binds n consecutive free loopback ports and returns the first
// and their listeners, or nil listeners after 1000 tries.
func holdRange(n int) (int, []net.Listener) {
	for tries := 0; tries < 1000; tries++ {
		base := lowPort + rand.IntN(highPort-lowPort-n)
		held := make([]net.Listener, 0, n)
		for i := range n {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+i))
			if err != nil {
				break
			}
			held = append(held, ln)
		}
		if len(held) == n {
			return base, held
		}
		for _, ln := range held {
			_ = ln.Close()
		}
	}
	return 0, nil
}
