package testnet

import (
	"fmt"
	"net"
	"testing"
)

// TestFreeRangesDisjoint draws several ranges at once many times: no port
// may belong to two of them, and every port must be bindable afterwards.
func TestFreeRangesDisjoint(t *testing.T) {
	sizes := []int{3, 3, 6, 12}
	for round := range 2000 {
		bases := FreeRanges(t, sizes...)
		seen := map[int]int{}
		for i, base := range bases {
			if base < lowPort || base+sizes[i] > highPort {
				t.Fatalf("round %d: range %d [%d, %d) outside [%d, %d)", round, i, base, base+sizes[i], lowPort, highPort)
			}
			for p := base; p < base+sizes[i]; p++ {
				if j, ok := seen[p]; ok {
					t.Fatalf("round %d: port %d in ranges %d and %d (bases %v)", round, p, j, i, bases)
				}
				seen[p] = i
			}
		}
		if round == 0 {
			for p := range seen {
				ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
				if err != nil {
					t.Fatalf("port %d still held after FreeRanges returned: %v", p, err)
				}
				_ = ln.Close()
			}
		}
	}
}

// TestFreeRangesAvoidsListeners: a range never includes a port something
// listens on.
func TestFreeRangesAvoidsListeners(t *testing.T) {
	var held []net.Listener
	busy := map[int]bool{}
	for p := lowPort; p < lowPort+2000; p += 3 {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		held = append(held, ln)
		busy[p] = true
	}
	defer func() {
		for _, ln := range held {
			_ = ln.Close()
		}
	}()
	for range 200 {
		base := FreeRange(t, 4)
		for p := base; p < base+4; p++ {
			if busy[p] {
				t.Fatalf("range [%d, %d) includes port %d, which is listened on", base, base+4, p)
			}
		}
	}
}
