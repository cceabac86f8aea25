package meta

import (
	"errors"
	"fmt"
	"time"

	"github.com/causeway/causeway/region"
)

// Config configures one node's part in its region's metadata group. A plain
// struct with defaults and validation; YAML and flags live in cmd/.
type Config struct {
	// Region names the region (the group's deployment id derives from it).
	Region string
	// Node is this node's id in the region (1 and up, stable across wipes).
	Node region.NodeID
	// DataDir holds the node's identity and the group's Raft data.
	DataDir string
	// Addrs are where this node serves; Addrs.Raft is the group's address.
	Addrs region.Addrs
	// Bootstrap lists the initial voters of a new region (node id to Raft
	// address). A listed node with an empty directory bootstraps the group
	// with them, unless a peer says the region exists.
	Bootstrap map[region.NodeID]string
	// Peers are HTTP base URLs of other nodes, asked to add this node when
	// it joins (and whether the region exists before bootstrapping).
	Peers []string
	// Secret authenticates join requests between the region's nodes.
	Secret string
	// MaxVoters bounds the group's voters (default 5); further nodes are
	// non-voting members.
	MaxVoters int

	RTTMillisecond     uint64        // dragonboat's tick (default 20)
	ElectionRTT        uint64        // default 10
	HeartbeatRTT       uint64        // default 1
	HeartbeatInterval  time.Duration // default 300ms
	SessionTimeout     time.Duration // default 1.5s (five heartbeats)
	ControllerInterval time.Duration // default 100ms
	ReplaceAfter       time.Duration // default 5m
	// RequestTimeout bounds one proposal or read (default 5s).
	RequestTimeout time.Duration
}

// WithDefaults fills every zero field with its default.
func (c Config) WithDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.MaxVoters <= 0 {
		c.MaxVoters = 5
	}
	if c.RTTMillisecond == 0 {
		c.RTTMillisecond = 20
	}
	if c.ElectionRTT == 0 {
		c.ElectionRTT = 10
	}
	if c.HeartbeatRTT == 0 {
		c.HeartbeatRTT = 1
	}
	def(&c.HeartbeatInterval, 300*time.Millisecond)
	def(&c.SessionTimeout, 1500*time.Millisecond)
	def(&c.ControllerInterval, 100*time.Millisecond)
	def(&c.ReplaceAfter, 5*time.Minute)
	def(&c.RequestTimeout, 5*time.Second)
	return c
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case c.Region == "":
		return errors.New("meta: region is required")
	case c.Node == 0:
		return errors.New("meta: node id must be 1 or more")
	case c.DataDir == "":
		return errors.New("meta: data directory is required")
	case c.Addrs.Raft == "" || c.Addrs.HTTP == "" || c.Addrs.Data == "":
		return errors.New("meta: raft, data and http addresses are required")
	case len(c.Bootstrap) == 0 && len(c.Peers) == 0:
		return errors.New("meta: bootstrap voters or peers to join through are required")
	case c.Secret == "":
		return errors.New("meta: a region secret is required (join requests are authenticated)")
	}
	if c.HeartbeatInterval*2 > c.SessionTimeout {
		return fmt.Errorf("meta: session timeout %v must be at least two heartbeat intervals (%v)", c.SessionTimeout, c.HeartbeatInterval)
	}
	return nil
}
