package broker

import (
	"errors"
	"fmt"
	"time"

	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/broker/limits"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/broker/tlsutil"
	"github.com/causeway/causeway/broker/vfs"
)

// Config is everything a node needs. It is a plain struct with defaults and
// validation; YAML and flags are parsed only in cmd/.
type Config struct {
	// Region is this node's region name.
	Region string `yaml:"region"`
	// DataDir holds every stream's segment log and the metadata store.
	DataDir string `yaml:"data"`
	// HTTPAddr serves HTTP admin and the WebSocket API.
	HTTPAddr string `yaml:"http"`
	// KafkaAddr serves the Kafka protocol (broker/kafka); "" = off.
	KafkaAddr string `yaml:"kafka"`
	// MaxMessageBytes bounds one message's payload (default 5 MiB).
	MaxMessageBytes int `yaml:"maxMessageBytes"`
	// AutoCreateStreams creates a stream on first use by a producer or
	// consumer (default true).
	AutoCreateStreams *bool `yaml:"autoCreateStreams"`
	// Fsync is the segment log's fsync policy: always (default), interval, never.
	Fsync string `yaml:"fsync"`
	// FsyncInterval is used by the interval policy (default 1s).
	FsyncInterval time.Duration `yaml:"fsyncInterval"`
	// SegmentMaxBytes rolls segments past this size (default 64 MiB).
	SegmentMaxBytes int64 `yaml:"segmentMaxBytes"`
	// RetentionBytes and RetentionAge bound every persistent stream (0 = unlimited).
	RetentionBytes int64         `yaml:"retentionBytes"`
	RetentionAge   time.Duration `yaml:"retentionAge"`
	// RetentionCheckInterval is how often retention runs (default 1 minute).
	RetentionCheckInterval time.Duration `yaml:"retentionCheckInterval"`
	// NonPersistentBufferMessages bounds the in-memory ring of a
	// non-persistent stream (default 10000): slower consumers miss messages.
	NonPersistentBufferMessages int `yaml:"nonPersistentBufferMessages"`
	// MaxConsumersPerSubscription and MaxProducersPerStream bound attachments.
	MaxConsumersPerSubscription int `yaml:"maxConsumersPerSubscription"`
	MaxProducersPerStream       int `yaml:"maxProducersPerStream"`
	// MaxBatchMessages bounds the messages of one WebSocket batch frame
	// (default and ceiling 10000).
	MaxBatchMessages int `yaml:"maxBatchMessages"`
	// MaxKafkaRequestBytes bounds one Kafka request frame (default 100 MiB).
	MaxKafkaRequestBytes int `yaml:"maxKafkaRequestBytes"`
	// MaxSubscriptionsPerStream bounds the subscriptions of one stream
	// (default 1000).
	MaxSubscriptionsPerStream int `yaml:"maxSubscriptionsPerStream"`
	// MaxUnackedPerConsumer stops delivery to a consumer holding this many
	// unacked messages (default 50000).
	MaxUnackedPerConsumer int `yaml:"maxUnackedPerConsumer"`
	// WSPingInterval is how often idle WebSocket connections are pinged
	// (default 30s).
	WSPingInterval time.Duration `yaml:"wsPingInterval"`
	// ShutdownGrace bounds graceful shutdown (default 10s).
	ShutdownGrace time.Duration `yaml:"shutdownGrace"`

	// Geo-replication (replication.go): the other regions of the fabric
	// with their replication addresses; empty = a single-region node. A
	// region of several nodes is listed with every node's address,
	// "h1:p1,h2:p2,h3:p3" (at most 16, no duplicates, each host:port): only
	// the node leading the region's replication journals listens, and the
	// others are dialed in turn until it answers.
	Peers map[string]string `yaml:"peers"`
	// ReplAddr is where this node listens for peer traffic.
	ReplAddr string `yaml:"repl"`
	// FabricSecret authenticates peer traffic: the same in every region,
	// at least 16 bytes.
	FabricSecret string `yaml:"fabricSecret"`
	// WAN emulates a wide-area network on this node's outgoing peer links.
	WAN WANConfig `yaml:"wan"`
	// JoinTimeout bounds how long a region that starts with an empty data
	// directory waits to hear from every peer before it accepts writes to
	// global streams and collections (a wiped region first gets its own
	// data back from its peers; see replicator.Engine.Joining). 0: 5s.
	JoinTimeout time.Duration `yaml:"joinTimeout"`

	// Auth configures authentication (broker/auth). The zero value runs
	// open; `causeway serve` and `causeway dev` turn it on by default.
	Auth auth.Config `yaml:"auth"`
	// TLS configures TLS on the HTTP/WebSocket and Kafka listeners.
	TLS tlsutil.Config `yaml:"tls"`
	// ReplTLS makes peer traffic mutual TLS: this region's certificate
	// (certFile, keyFile) and the fabric's CA (clientCAFile), which verifies
	// both the peers that connect and the peers this region dials. The
	// fabric secret still seals every hello inside. Off when empty.
	ReplTLS tlsutil.Config `yaml:"replTLS"`
	// Limits are the node-wide client limits (broker/limits).
	Limits limits.Config `yaml:"limits"`
	// StoreReserveBytes: the node's Pebble stores (metadata, cursors, API
	// keys, collections, SPOT) refuse writes while the data disk has less
	// free, so that a filling disk is met by a clean refusal rather than a
	// failed write (0: 64 MiB; negative: no reserve). See internal/pebblekv.
	StoreReserveBytes int64 `yaml:"storeReserveBytes"`

	// DiskFaults, for tests, makes every file the node writes (segment
	// logs, replication journals, Pebble stores) go through a fault
	// injector: a test fills the disk with DiskFaults.NoSpaceAfter.
	DiskFaults *vfs.Injector `yaml:"-"`

	// Cluster makes the node one of several nodes of its region: its
	// persistent streams are the region's, replicated inside it
	// (cluster.go). Nil: a region of one node.
	Cluster Cluster `yaml:"-"`
}

// DefaultMaxMessageBytes is the default payload limit.
const DefaultMaxMessageBytes = 5 << 20

// WithDefaults fills every zero field with its default.
func (c Config) WithDefaults() Config {
	if c.Region == "" {
		c.Region = "local"
	}
	if c.DataDir == "" {
		c.DataDir = "causeway-data"
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = "127.0.0.1:8080"
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.AutoCreateStreams == nil {
		t := true
		c.AutoCreateStreams = &t
	}
	if c.Fsync == "" {
		c.Fsync = "always"
	}
	if c.FsyncInterval == 0 {
		c.FsyncInterval = time.Second
	}
	if c.SegmentMaxBytes == 0 {
		c.SegmentMaxBytes = 64 << 20
	}
	if c.RetentionCheckInterval == 0 {
		c.RetentionCheckInterval = time.Minute
	}
	if c.NonPersistentBufferMessages == 0 {
		c.NonPersistentBufferMessages = 10000
	}
	if c.MaxConsumersPerSubscription == 0 {
		c.MaxConsumersPerSubscription = 1000
	}
	if c.MaxProducersPerStream == 0 {
		c.MaxProducersPerStream = 1000
	}
	if c.MaxBatchMessages == 0 {
		c.MaxBatchMessages = 10000
	}
	if c.MaxSubscriptionsPerStream == 0 {
		c.MaxSubscriptionsPerStream = 1000
	}
	if c.MaxUnackedPerConsumer == 0 {
		c.MaxUnackedPerConsumer = 50000
	}
	if c.WSPingInterval == 0 {
		c.WSPingInterval = 30 * time.Second
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = 10 * time.Second
	}
	c.Auth = c.Auth.WithDefaults()
	c.Limits = c.Limits.WithDefaults()
	return c
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	var errs []error
	if err := naming.Validate("region", c.Region); err != nil {
		errs = append(errs, err)
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data directory is empty"))
	}
	if c.MaxMessageBytes <= 0 || c.MaxMessageBytes > 64<<20 {
		errs = append(errs, fmt.Errorf("maxMessageBytes %d: want 1..64 MiB", c.MaxMessageBytes))
	}
	if _, err := segment.ParseFsyncPolicy(c.Fsync); err != nil {
		errs = append(errs, err)
	}
	if c.SegmentMaxBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("segmentMaxBytes %d: want at least 1 MiB", c.SegmentMaxBytes))
	}
	if c.RetentionBytes < 0 || c.RetentionAge < 0 {
		errs = append(errs, errors.New("retention must not be negative"))
	}
	if c.NonPersistentBufferMessages < 1 || c.NonPersistentBufferMessages > 10_000_000 {
		errs = append(errs, fmt.Errorf("nonPersistentBufferMessages %d: want 1..10000000", c.NonPersistentBufferMessages))
	}
	errs = append(errs, c.validateReplication()...)
	if c.MaxBatchMessages < 1 || c.MaxBatchMessages > 10000 {
		errs = append(errs, fmt.Errorf("maxBatchMessages %d: want 1..10000", c.MaxBatchMessages))
	}
	if c.MaxKafkaRequestBytes < 0 {
		errs = append(errs, fmt.Errorf("maxKafkaRequestBytes %d: must not be negative", c.MaxKafkaRequestBytes))
	}
	if c.ReplTLS.Enabled() && (c.ReplTLS.CertFile == "" || c.ReplTLS.ClientCAFile == "") {
		errs = append(errs, errors.New("replTLS: mutual TLS between regions needs certFile, keyFile and clientCAFile (the fabric CA); dev certificates are per region and cannot verify each other"))
	}
	for _, err := range []error{c.Auth.Validate(), c.TLS.Validate(), c.ReplTLS.Validate(), c.Limits.Validate()} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("broker: invalid config: %w", errors.Join(errs...))
	}
	return nil
}

// segmentOptions derives the segment log options from the config.
// SegmentOptions are the segment log options of the node's streams (a
// region's log shipping opens stream replicas with them).
func (c Config) SegmentOptions() segment.Options { return c.segmentOptions() }

func (c Config) segmentOptions() segment.Options {
	policy, _ := segment.ParseFsyncPolicy(c.Fsync)
	return segment.Options{
		SegmentMaxBytes: c.SegmentMaxBytes,
		Fsync:           policy,
		FsyncInterval:   c.FsyncInterval,
		MaxRecordBytes:  c.MaxMessageBytes + 64<<10,
		RetentionBytes:  c.RetentionBytes,
		RetentionAge:    c.RetentionAge,
	}.WithDefaults()
}
