package transport

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseAddrs(t *testing.T) {
	many := make([]string, MaxPeerAddrs+1)
	for i := range many {
		many[i] = fmt.Sprintf("h%d:7000", i)
	}
	tests := []struct {
		name, in string
		want     []string
		err      string // part of the error; "" = valid
	}{
		{"one", "h:1", []string{"h:1"}, ""},
		{"three", "h1:1,h2:2,h3:3", []string{"h1:1", "h2:2", "h3:3"}, ""},
		{"spaces", " h1:1 , h2:2", []string{"h1:1", "h2:2"}, ""},
		{"ipv6", "[::1]:7000,10.0.0.1:7000", []string{"[::1]:7000", "10.0.0.1:7000"}, ""},
		{"max", strings.Join(many[:MaxPeerAddrs], ","), many[:MaxPeerAddrs], ""},
		{"empty", "", nil, "no address"},
		{"blank", "  ", nil, "no address"},
		{"empty entry", "h1:1,,h2:2", nil, "entry 2 is empty"},
		{"trailing comma", "h1:1,", nil, "entry 2 is empty"},
		{"no port", "h1:1,h2", nil, `entry 2 "h2": want host:port`},
		{"empty port", "h1:", nil, `port "" is not a number`},
		{"zero port", "h1:0", nil, `port "0" is not a number`},
		{"port too large", "h1:65536", nil, `port "65536" is not a number`},
		{"named port", "h1:http", nil, `port "http" is not a number`},
		{"no host", ":7000", nil, "has no host"},
		{"duplicate", "h1:1,h2:2,h1:1", nil, `entry 3 "h1:1" repeats entry 1`},
		{"duplicate after trim", "h1:1, h1:1", nil, "repeats entry 1"},
		{"too many", strings.Join(many, ","), nil, fmt.Sprintf("%d addresses, at most %d", MaxPeerAddrs+1, MaxPeerAddrs)},
	}
	for _, tc := range tests {
		got, err := ParseAddrs(tc.in)
		if tc.err == "" {
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
			}
			continue
		}
		if err == nil || !errors.Is(err, ErrInvalidAddrs) || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %q, %v; want an ErrInvalidAddrs containing %q", tc.name, got, err, tc.err)
		}
	}
}

func TestConfigValidatePeerLists(t *testing.T) {
	base := Config{Self: "a", Secret: testSecret}
	for list, wantErr := range map[string]bool{
		"h:1":            false,
		"h1:1,h2:2,h3:3": false,
		"h1:1,,h2:2":     true,
		"h1:1,h1:1":      true,
		"h1:1,h2":        true,
		"":               true,
	} {
		c := base
		c.Peers = map[string]string{"b": list}
		err := c.WithDefaults().Validate()
		if wantErr != (err != nil) {
			t.Errorf("%q: %v", list, err)
		}
		if wantErr && (!errors.Is(err, ErrInvalidConfig) || !errors.Is(err, ErrInvalidAddrs)) {
			t.Errorf("%q: %v does not wrap ErrInvalidConfig and ErrInvalidAddrs", list, err)
		}
	}
}

func TestRoundBackoff(t *testing.T) {
	lo, hi := 100*time.Millisecond, time.Second
	for _, tc := range []struct {
		n, addrs int
		wait     bool
		max      time.Duration
	}{
		{1, 1, true, lo}, {2, 1, true, 2 * lo}, {10, 1, true, hi},
		{1, 3, false, 0}, {2, 3, false, 0}, {3, 3, true, lo}, {4, 3, false, 0}, {6, 3, true, 2 * lo},
	} {
		d, ok := roundBackoff(tc.n, tc.addrs, lo, hi)
		if ok != tc.wait || d > tc.max || (ok && d < tc.max/2) {
			t.Errorf("failure %d of %d addresses: wait %s, %v; want %v, in [%s, %s]", tc.n, tc.addrs, d, ok, tc.wait, tc.max/2, tc.max)
		}
	}
}
