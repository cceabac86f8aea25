package broker

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/replicator/transport"
)

// This file holds what geo-replication needs from the node. The replication
// shell (replicator/shell) owns the causal engine, the per-origin journals
// and the transport; the node only routes publishes on global streams to it
// (SetReplicator) and applies replicated messages to streams
// (ApplyReplicated), idempotently on (Origin, OriginSeq).
//
// One engine runs per node and every fabric spans the node's configured
// regions (Config.Regions): a global stream of any fabric is replicated to
// every region. Only persistent streams replicate; a non-persistent stream
// stays in its region whatever its global flag.

// WANConfig emulates a wide-area network on a node's outgoing peer links
// (causeway dev): a one-way latency, a uniform jitter added to it and a
// loss rate. The zero value is no impairment.
type WANConfig struct {
	Latency time.Duration `yaml:"latency"`
	Jitter  time.Duration `yaml:"jitter"`
	Loss    float64       `yaml:"loss"`
}

// MinFabricSecretBytes is the shortest accepted fabric secret.
const MinFabricSecretBytes = 16

// Replicated reports whether the node is part of a multi-region fabric.
func (c Config) Replicated() bool { return len(c.Peers) > 0 }

// Regions returns every region of the fabric, this one included, sorted.
func (c Config) Regions() []string {
	out := []string{c.Region}
	for p := range c.Peers {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

func (c Config) validateReplication() []error {
	if !c.Replicated() {
		return nil
	}
	var errs []error
	for name, addr := range c.Peers {
		if err := naming.Validate("peer region", name); err != nil {
			errs = append(errs, err)
		}
		if name == c.Region {
			errs = append(errs, fmt.Errorf("peer %q is this node's own region", name))
		}
		if addr == "" {
			errs = append(errs, fmt.Errorf("peer %q has no replication address", name))
		} else if _, err := transport.ParseAddrs(addr); err != nil {
			errs = append(errs, fmt.Errorf("peer %q: replication addresses: %w", name, err))
		}
	}
	if c.ReplAddr == "" {
		errs = append(errs, errors.New("repl (the replication listen address) is required with peers"))
	}
	if len(c.FabricSecret) < MinFabricSecretBytes {
		errs = append(errs, fmt.Errorf("fabricSecret of %d bytes: want at least %d with peers", len(c.FabricSecret), MinFabricSecretBytes))
	}
	w := c.WAN
	if w.Latency < 0 || w.Jitter < 0 || !(w.Loss >= 0 && w.Loss <= 1) {
		errs = append(errs, fmt.Errorf("wan: latency %s, jitter %s, loss %v: want non-negative durations and a loss in [0, 1]", w.Latency, w.Jitter, w.Loss))
	}
	return errs
}

// Replicator is what a node hands publishes on global streams to (the
// replication shell implements it).
type Replicator interface {
	// PublishStream replicates recs, published to the global stream s, and
	// appends them to s (through ApplyReplicated, in causal order with
	// remote messages). done gets the offset of the first record once the
	// records are durable in their journal and in s, or the error. Calls
	// from one goroutine keep their order.
	PublishStream(s *Stream, recs []segment.Record, done func(first uint64, err error))
	// Joined reports whether the region has joined the fabric: it did not
	// start empty, or it got back and applied its previous life's
	// messages. Producers de-duplicate against the streams only then.
	Joined() bool
	// AwaitJoined calls ready(nil) once Joined is true (at once if it is),
	// or ready(err) when the replicator stops first. ready may run on
	// another goroutine.
	AwaitJoined(ready func(error))
}

// PayloadSource keeps the payloads of the records a replicator appends to
// derived global streams by reference (segment.Record.PayloadRef): the
// replication shell's journals, which hold every replicated message
// anyway, so that a message is written once per region.
type PayloadSource interface {
	// ResolvePayloads fills the Payload of every record of recs, read from
	// stream, that has PayloadRef set (segment.Options.ResolvePayloads).
	ResolvePayloads(stream naming.Stream, recs []segment.Record) error
}

// SetPayloadSource makes src the owner of referenced payloads (nil: none;
// records appended by reference then stay stored as they are, and reading
// them fails until a source is set again). The replication shell sets it
// when its journals open, before it re-applies them.
func (n *Node) SetPayloadSource(src PayloadSource) {
	if src == nil {
		n.payloads.Store(nil)
		return
	}
	n.payloads.Store(&payloadBox{src: src})
}

type payloadBox struct{ src PayloadSource }

// resolvePayloads is the ResolvePayloads of a derived stream's log.
func (n *Node) resolvePayloads(name naming.Stream, recs []segment.Record) error {
	b := n.payloads.Load()
	if b == nil {
		return fmt.Errorf("broker: %s: payloads kept by the replication journals, which are not open", name)
	}
	return b.src.ResolvePayloads(name, recs)
}

// replSlot holds the node's replicator.
type replSlot struct{ p atomic.Pointer[replBox] }

type replBox struct{ r Replicator }

// SetReplicator routes publishes on persistent global streams to r (nil
// stops routing). Set it before serving clients.
func (n *Node) SetReplicator(r Replicator) {
	if r == nil {
		n.repl.p.Store(nil)
		return
	}
	n.repl.p.Store(&replBox{r: r})
	regions := n.cfg.Regions()
	n.mu.Lock()
	for k, fi := range n.fabrics {
		if !fi.Pinned {
			fi.Regions = regions
			n.fabrics[k] = fi
		}
	}
	n.mu.Unlock()
}

// replicatorFor returns the replicator that publishes on s go through, or
// nil when s is not replicated.
func (n *Node) replicatorFor(s *Stream) Replicator {
	b := n.repl.p.Load()
	if b == nil || !s.Replicated() {
		return nil
	}
	return b.r
}

// Replicated reports whether the stream's messages are replicated to the
// other regions: persistent and global.
func (s *Stream) Replicated() bool { return s.name.Persistent && s.info.Global }

// NotApplied marks, in ApplyReplicated's offsets, a record that was not
// appended: already applied, a producer duplicate, or for a local stream.
const NotApplied = ^uint64(0)

// replTailRecords bounds how many tail records are scanned to rebuild a
// stream's highest applied OriginSeq per origin.
const replTailRecords = dedupRestoreRecords

// streamRepl is a stream's replication state: the highest OriginSeq
// applied per origin, rebuilt from the log's tail on first use.
type streamRepl struct {
	mu      sync.Mutex
	loaded  bool
	warned  bool
	applied map[string]uint64
}

// ApplyReplicated appends replicated records (Origin and OriginSeq set,
// each origin's records in OriginSeq order) to the stream name, creating
// it global when it does not exist. It is idempotent: a record whose
// OriginSeq is at or below the highest applied for its origin is skipped,
// and so is a remote record whose (producer, sequence id) the stream has
// already stored (a producer that failed over to another region and
// re-sent). A local stream (global=false) of the same name receives
// nothing. done gets, per record, its offset or NotApplied, once the
// appended records are durable; it runs on the storage's writer goroutine.
// Calls from one goroutine are appended in call order.
func (n *Node) ApplyReplicated(name naming.Stream, recs []segment.Record, done func(offsets []uint64, err error)) {
	if n.FabricServedHere(name.Tenant, name.Fabric) != nil {
		// The fabric's list left this region: its streams are deleted
		// here and receive nothing again (README "Geo-fabrics").
		offsets := make([]uint64, len(recs))
		for i := range offsets {
			offsets[i] = NotApplied
		}
		done(offsets, nil)
		return
	}
	s, err := n.streamForReplica(name)
	if err != nil {
		done(nil, err)
		return
	}
	offsets := make([]uint64, len(recs))
	for i := range offsets {
		offsets[i] = NotApplied
	}
	if !s.Replicated() {
		s.repl.mu.Lock()
		if !s.repl.warned {
			s.repl.warned = true
			s.log.Warn("replicated messages for a local stream of the same name are not applied")
		}
		s.repl.mu.Unlock()
		done(offsets, nil)
		return
	}
	// In a region of several nodes the stream's leader applies, through
	// its replicated log (acknowledged once every in-sync replica holds
	// the records); the region's replication runs on the node leading the
	// journals, which leads the global streams too (one co-location
	// group), so this fails only while leadership moves.
	s.mu.Lock()
	rlog, plog, notOwner := s.rlog, s.plog, s.notOwnerLocked()
	s.mu.Unlock()
	if notOwner != nil {
		done(nil, fmt.Errorf("broker: apply replicated to %s: %w", s.name, notOwner))
		return
	}
	appendAsync := plog.AppendAsync
	if rlog != nil {
		appendAsync = rlog.AppendAsync
	}
	kept, idx := s.filterReplicated(recs, plog)
	if len(kept) == 0 {
		done(offsets, nil)
		return
	}
	if rlog != nil || !s.derived || n.payloads.Load() == nil {
		// Only a derived stream of a node of one stores payloads by
		// reference: a replicated log's followers have no journals to
		// resolve them from.
		for i := range kept {
			kept[i].PayloadRef = false
		}
	}
	appendAsync(kept, func(first uint64, err error) {
		if err != nil {
			// filterReplicated advanced the applied marks past records
			// that are not stored (a full disk): rescan the log's tail
			// before the next apply, or their re-application is skipped.
			s.repl.mu.Lock()
			s.repl.loaded = false
			s.repl.mu.Unlock()
			done(nil, fmt.Errorf("broker: apply replicated to %s: %w", s.name, err))
			return
		}
		for j, i := range idx {
			offsets[i] = first + uint64(j)
		}
		s.rememberReplicated(kept, first)
		done(offsets, nil)
	})
}

// streamForReplica returns the stream, creating it global if missing.
func (n *Node) streamForReplica(name naming.Stream) (*Stream, error) {
	if err := name.Validate(); err != nil {
		return nil, err
	}
	if !name.Persistent {
		return nil, fmt.Errorf("%w: %s: only persistent streams replicate", ErrBadRequest, name)
	}
	if s, err := n.Stream(name); err == nil {
		return s, nil
	}
	if n.cfg.Cluster != nil {
		return n.createInCluster(name, n.fillInfo(StreamInfo{Global: true}))
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, ErrClosed
	}
	if s, ok := n.streams[name]; ok {
		return s, nil
	}
	return n.createStreamLocked(name, StreamInfo{Global: true})
}

// filterReplicated drops the records already applied and returns the rest
// with their indexes in recs, advancing the highest applied per origin.
func (s *Stream) filterReplicated(recs []segment.Record, plog *segment.Log) ([]segment.Record, []int) {
	s.repl.mu.Lock()
	defer s.repl.mu.Unlock()
	if !s.repl.loaded {
		s.repl.applied = scanApplied(plog, s.log)
		s.repl.loaded = true
	}
	self := s.node.cfg.Region
	kept := make([]segment.Record, 0, len(recs))
	idx := make([]int, 0, len(recs))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range recs {
		if r.OriginSeq <= s.repl.applied[r.Origin] {
			continue
		}
		s.repl.applied[r.Origin] = r.OriginSeq
		if OriginRegion(r.Origin) != self && r.Producer != "" {
			if d := s.dedup[r.Producer]; d != nil && r.SequenceID <= d.highest {
				s.node.metrics.Duplicates.Add(1)
				continue
			}
		}
		kept = append(kept, r)
		idx = append(idx, i)
	}
	return kept, idx
}

// OriginRegion is the region of a replicated record's Origin: the origin
// itself, or what precedes '@' in one tagged by its replication domain
// ("eu-west@v2": a geo-fabric's list version numbers its ops anew, and
// the tag keeps them apart from the earlier versions' in the highest
// applied OriginSeq per origin).
func OriginRegion(origin string) string {
	region, _, _ := strings.Cut(origin, "@")
	return region
}

// scanApplied reads the log's tail for the highest OriginSeq per origin.
func scanApplied(plog *segment.Log, log *zap.Logger) map[string]uint64 {
	applied := map[string]uint64{}
	end := plog.EndOffset()
	from := plog.StartOffset()
	if end-from > replTailRecords {
		from = end - replTailRecords
	}
	for from < end {
		recs, err := plog.ReadStored(from, 4096, 8<<20) // the dots alone
		if err != nil || len(recs) == 0 {
			if err != nil {
				log.Warn("scan replicated tail", zap.Error(err))
			}
			break
		}
		for _, r := range recs {
			if r.OriginSeq > applied[r.Origin] {
				applied[r.Origin] = r.OriginSeq
			}
		}
		from = recs[len(recs)-1].Offset + 1
	}
	return applied
}

// rememberReplicated records the producers' sequence ids of appended
// records, so later re-sends are recognised in this region too.
func (s *Stream) rememberReplicated(recs []segment.Record, first uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range recs {
		if r.Producer == "" {
			continue
		}
		d := s.dedup[r.Producer]
		if d == nil {
			if len(s.dedup) >= maxDedupProducers {
				s.evictOldestDedup()
			}
			d = &dedupState{highest: -1}
			s.dedup[r.Producer] = d
		}
		d.add(r.SequenceID, first+uint64(i))
	}
}

// AppliedOriginSeq returns the highest OriginSeq of origin applied to the
// stream (for status and tests).
func (s *Stream) AppliedOriginSeq(origin string) uint64 {
	s.repl.mu.Lock()
	defer s.repl.mu.Unlock()
	s.mu.Lock()
	plog := s.plog
	s.mu.Unlock()
	if !s.repl.loaded && plog != nil {
		s.repl.applied = scanApplied(plog, s.log)
		s.repl.loaded = true
	}
	return s.repl.applied[origin]
}

// SyncReplicated makes every record appended so far to the node's derived
// streams (global streams of a geo-replicated node of one, appended
// without fsync: see Stream.derived) durable. The replicator calls it
// before its applied watermark moves past what it applied: a crash then
// loses only records past the watermark, which it re-applies from its
// journals in the order it first applied them (same offsets).
func (n *Node) SyncReplicated() error {
	n.mu.Lock()
	logs := make([]*segment.Log, 0, len(n.streams))
	for _, s := range n.streams {
		if s.derived && s.plog != nil {
			logs = append(logs, s.plog)
		}
	}
	n.mu.Unlock()
	var errs []error
	for _, l := range logs {
		if err := l.Sync(); err != nil && !errors.Is(err, segment.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("broker: sync replicated streams: %w", errors.Join(errs...))
	}
	return nil
}
