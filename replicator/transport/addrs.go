package transport

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// MaxPeerAddrs bounds the addresses of one peer region (its nodes).
const MaxPeerAddrs = 16

// ParseAddrs splits a peer region's address list, "host:port" or
// "h1:p1,h2:p2,...", into its entries (spaces around an entry are
// ignored). It refuses an empty entry, an entry without a host or a port
// (a port is a number in 1..65535), a duplicate and more than
// MaxPeerAddrs entries. Errors wrap ErrInvalidAddrs.
func ParseAddrs(list string) ([]string, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("address list %q: "+format+": %w", append([]any{list}, append(a, ErrInvalidAddrs)...)...)
	}
	if strings.TrimSpace(list) == "" {
		return nil, bad("no address")
	}
	parts := strings.Split(list, ",")
	if len(parts) > MaxPeerAddrs {
		return nil, bad("%d addresses, at most %d", len(parts), MaxPeerAddrs)
	}
	out := make([]string, 0, len(parts))
	for i, part := range parts {
		addr := strings.TrimSpace(part)
		if addr == "" {
			return nil, bad("entry %d is empty", i+1)
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, bad("entry %d %q: want host:port", i+1, addr)
		}
		if host == "" {
			return nil, bad("entry %d %q has no host", i+1, addr)
		}
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return nil, bad("entry %d %q: port %q is not a number in 1..65535", i+1, addr, port)
		}
		for j, prev := range out {
			if prev == addr {
				return nil, bad("entry %d %q repeats entry %d", i+1, addr, j+1)
			}
		}
		out = append(out, addr)
	}
	return out, nil
}
