package broker

import (
	"strings"
	"testing"
)

// A peer region of several nodes is listed with every node's address; a
// malformed list is refused with an error naming the peer and the entry.
func TestReplicationConfigPeerAddressLists(t *testing.T) {
	base := Config{Region: "a", DataDir: "d", ReplAddr: "h:0", FabricSecret: strings.Repeat("s", MinFabricSecretBytes)}
	seventeen := make([]string, 17)
	for i := range seventeen {
		seventeen[i] = "h" + strings.Repeat("x", i) + ":1"
	}
	tests := []struct {
		name, addrs string
		err         string // part of the error; "" = valid
	}{
		{"one address", "h:1", ""},
		{"three nodes", "h1:7000,h2:7000,h3:7000", ""},
		{"spaces after commas", "h1:7000, h2:7000", ""},
		{"sixteen", strings.Join(seventeen[:16], ","), ""},
		{"empty", "", `peer "b" has no replication address`},
		{"empty entry", "h1:7000,,h3:7000", `peer "b": replication addresses: address list "h1:7000,,h3:7000": entry 2 is empty`},
		{"trailing comma", "h1:7000,", "entry 2 is empty"},
		{"duplicate", "h1:7000,h2:7000,h1:7000", `entry 3 "h1:7000" repeats entry 1`},
		{"no port", "h1:7000,h2", `entry 2 "h2": want host:port`},
		{"empty port", "h1:", `port "" is not a number in 1..65535`},
		{"no host", ":7000", "has no host"},
		{"seventeen", strings.Join(seventeen, ","), "17 addresses, at most 16"},
	}
	for _, tc := range tests {
		c := base
		c.Peers = map[string]string{"b": tc.addrs}
		err := c.WithDefaults().Validate()
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: %v; want an error containing %q", tc.name, err, tc.err)
		}
	}
}
