package spot

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	pvfs "github.com/cockroachdb/pebble/v2/vfs"
)

// ReplicaConfig is one replica of the region's SPOT group that this node
// runs: a dragonboat NodeHost of its own, with its own Raft address and
// directory (DataDir/replica-{ID}).
type ReplicaConfig struct {
	ID          uint64 `yaml:"id"`
	RaftAddress string `yaml:"raftAddress"`
}

// Config configures the SPOT service of one node. It is a plain struct with
// defaults and validation; YAML and flags live in cmd/.
type Config struct {
	// Region is this node's region. The region's SPOT group serves every
	// SPOT collection homed here.
	Region string `yaml:"region"`
	// DataDir holds the local replicas.
	DataDir string `yaml:"data"`
	// ReserveBytes: writes (proposals) are refused with ErrUnavailable
	// while DataDir's disk has less free (0: 64 MiB, at most an eighth of
	// the disk; negative: never). dragonboat ends the process when its
	// Raft log cannot be written, so a full disk must be met here.
	ReserveBytes int64 `yaml:"reserveBytes"`
	// DiskFS, for tests, is the file system whose free space the reserve
	// is checked against (nil: the disk).
	DiskFS pvfs.FS `yaml:"-"`
	// Replicas are the replicas this node runs (none: the node forwards
	// every SPOT request to the collection's home region). In one process
	// several are allowed (a dev fabric shows the fault story on one
	// machine).
	Replicas []ReplicaConfig `yaml:"replicas"`
	// Members is every replica of the region's group, ID to Raft address
	// (default: Replicas). 1 is allowed; 3 survives the loss of one.
	Members map[uint64]string `yaml:"members"`
	// Regions maps each region to the HTTP base URLs of its nodes
	// ("http://host:port"); requests for a collection homed elsewhere are
	// forwarded there, trying each URL in turn.
	Regions map[string][]string `yaml:"regions"`
	// RTTMillisecond is dragonboat's tick (default 20); elections take
	// ElectionRTT ticks (default 10) and heartbeats HeartbeatRTT (1).
	RTTMillisecond uint64 `yaml:"rttMillisecond"`
	ElectionRTT    uint64 `yaml:"electionRTT"`
	HeartbeatRTT   uint64 `yaml:"heartbeatRTT"`
	// SnapshotEntries is how many entries pass between snapshots (default
	// 10000); CompactionOverhead entries are kept behind one (default 5000),
	// so a replica further behind catches up by snapshot plus log.
	SnapshotEntries    uint64 `yaml:"snapshotEntries"`
	CompactionOverhead uint64 `yaml:"compactionOverhead"`
	// RetryTimeout bounds how long one request keeps retrying leader
	// changes, a missing quorum or unreachable home nodes before it answers
	// ErrUnavailable (default 5s). AttemptTimeout bounds one try (default
	// 1s).
	RetryTimeout   time.Duration `yaml:"retryTimeout"`
	AttemptTimeout time.Duration `yaml:"attemptTimeout"`
	// HTTPClient forwards requests to other regions (default: a client
	// with AttemptTimeout per request).
	HTTPClient *http.Client `yaml:"-"`
	// Now is the wall clock (expiry, creation times); default time.Now.
	Now func() time.Time `yaml:"-"`
}

// Defaults.
const (
	DefaultRTTMillisecond     = 20
	DefaultElectionRTT        = 10
	DefaultHeartbeatRTT       = 1
	DefaultSnapshotEntries    = 10000
	DefaultCompactionOverhead = 5000
	DefaultRetryTimeout       = 5 * time.Second
	DefaultAttemptTimeout     = time.Second
)

// WithDefaults fills every zero field with its default.
func (c Config) WithDefaults() Config {
	if len(c.Members) == 0 && len(c.Replicas) > 0 {
		c.Members = map[uint64]string{}
		for _, r := range c.Replicas {
			c.Members[r.ID] = r.RaftAddress
		}
	}
	if c.RTTMillisecond == 0 {
		c.RTTMillisecond = DefaultRTTMillisecond
	}
	if c.ElectionRTT == 0 {
		c.ElectionRTT = DefaultElectionRTT
	}
	if c.HeartbeatRTT == 0 {
		c.HeartbeatRTT = DefaultHeartbeatRTT
	}
	if c.SnapshotEntries == 0 {
		c.SnapshotEntries = DefaultSnapshotEntries
	}
	if c.CompactionOverhead == 0 {
		c.CompactionOverhead = DefaultCompactionOverhead
	}
	if c.RetryTimeout == 0 {
		c.RetryTimeout = DefaultRetryTimeout
	}
	if c.AttemptTimeout == 0 {
		c.AttemptTimeout = DefaultAttemptTimeout
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: c.AttemptTimeout + c.RetryTimeout}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate reports every invalid setting.
func (c Config) Validate() error {
	var errs []error
	if err := validateRegion(c.Region); err != nil {
		errs = append(errs, err)
	}
	if len(c.Replicas) > 0 && c.DataDir == "" {
		errs = append(errs, errors.New("replicas need a data directory"))
	}
	seen := map[uint64]bool{}
	for _, r := range c.Replicas {
		if r.ID == 0 {
			errs = append(errs, errors.New("replica id 0 (ids start at 1)"))
		}
		if seen[r.ID] {
			errs = append(errs, fmt.Errorf("replica %d listed twice", r.ID))
		}
		seen[r.ID] = true
		if addr, ok := c.Members[r.ID]; !ok || addr != r.RaftAddress {
			errs = append(errs, fmt.Errorf("replica %d at %s is not a member at that address", r.ID, r.RaftAddress))
		}
	}
	for region, urls := range c.Regions {
		if err := validateRegion(region); err != nil {
			errs = append(errs, err)
		}
		for _, u := range urls {
			if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
				errs = append(errs, fmt.Errorf("region %s: URL %q: want http(s)://host:port", region, u))
			}
		}
	}
	if c.ElectionRTT <= 2*c.HeartbeatRTT {
		errs = append(errs, fmt.Errorf("electionRTT %d must be more than twice heartbeatRTT %d", c.ElectionRTT, c.HeartbeatRTT))
	}
	if c.RetryTimeout < 0 || c.AttemptTimeout <= 0 {
		errs = append(errs, errors.New("timeouts must be positive"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("spot: invalid config: %w", errors.Join(errs...))
	}
	return nil
}
