package shell

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/broker/tlsutil"
	"github.com/causeway/causeway/broker/vfs"
	"github.com/causeway/causeway/internal/lograte"
	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/link"
	"github.com/causeway/causeway/replicator/transport"
)

// Shell is one node's replication: the engine, its journals, the transport
// and the goroutines between them. Its exported methods are safe for
// concurrent use.
type Shell struct {
	node    *broker.Node
	cfg     broker.Config
	opts    Options
	self    string
	regions []string
	// peers are the regions this shell replicates with; domain its causal
	// domain's name ("" for every region's); secret its codec's secret.
	peers  map[string]string
	domain string
	// originSuffix tags stream records' Origin (Domain.OriginTag).
	originSuffix string
	secret       []byte
	log          *zap.Logger
	fs           vfs.FS
	dir          string
	records      records // the applied watermark, evictions, join mark

	journals *journals
	// payloadRefs: stream messages are appended to their streams by
	// reference to the journals (Record.PayloadRef; payloads.go).
	payloadRefs bool
	transport   wire
	senders     map[string]*sender
	kinds       kindTable
	codecs      sync.Pool // *replicator.Codec with the membership set

	// Owned by the loop goroutine.
	engine  *replicator.Engine
	jend    map[string]uint64 // ops journaled or being journaled per origin
	order   uint64            // the last op's place in the apply order (JournalEntry.Order)
	own     []ownRef          // local ops published, not yet in a step
	held    []*pubReq         // publishes waiting for the region to join
	joining bool              // the engine was joining at the last look
	// joinTarget is the delivered vector when the engine joined, until it
	// is applied (then joined is set).
	joinTarget replicator.Vector
	joined     atomic.Bool
	joinedC    chan struct{} // closed when joined is set
	peerCur    map[string]peerCur
	lastTick   time.Time

	pubMu     sync.RWMutex
	pubClosed bool
	pubCh     chan *pubReq
	netCh     chan netMsg
	netBytes  *byteBudget // bytes of the messages in netCh
	ctlCh     chan func(time.Time)
	peerWake  chan struct{}
	peerWant  map[string]*peerWant
	steps     chan *step

	progress *progress
	applies  sync.WaitGroup
	evictMu  sync.Mutex
	evicted  []string
	failed   atomic.Pointer[error]
	// paused: applying is paused (pause.go); resumeWanted asks the loop to
	// resume.
	paused       atomic.Bool
	resumeWanted atomic.Bool
	m            counters
	// stepsInFlight counts the steps handed to the completer and not yet
	// through it; lastHeal is the loop's last recovery attempt (heal.go).
	stepsInFlight atomic.Int64
	lastHeal      time.Time
	logRate       *lograte.Limiter // repeated warnings (a full disk)

	stop          chan struct{}
	loopDone      chan struct{}
	completerDone chan struct{}
	wg            sync.WaitGroup // senders and the saver
	closeOnce     sync.Once
	closeErr      error
}

// pubReq is one local publish: stream messages (stream set) or one op of a
// registered kind.
type pubReq struct {
	stream *broker.Stream
	recs   []segment.Record
	bodies [][]byte
	done   func(first uint64, err error)
	opDone func(replicator.Dot, error)
}

func (r *pubReq) fail(err error) {
	if r.done != nil {
		r.done(0, err)
	} else {
		r.opDone(replicator.Dot{}, err)
	}
}

// ownRef ties a local op to its publish request.
type ownRef struct {
	seq uint64
	req *pubReq
	idx int
}

// netMsg is a decoded message from a peer.
type netMsg struct {
	batch *replicator.Batch
	ack   *replicator.Ack
	bytes int // counted against netBytes
}

// peerWant is the transport's view of a link; peerCur what the engine was
// told.
type peerWant struct {
	up  atomic.Bool
	gen atomic.Uint64
}

type peerCur struct {
	up  bool
	gen uint64
}

// Start opens node's replication when its configuration has peers (nil,
// nil otherwise): it opens the journals, re-applies their tails to the
// streams, restores the engine, starts the transport and routes publishes
// on global streams to the shell. Call it before serving clients.
func Start(node *broker.Node, logger *zap.Logger, opts Options) (*Shell, error) {
	s, err := start(node, logger, opts)
	if s != nil {
		node.SetReplicator(s)
	}
	return s, err
}

// StartDomain starts the shell of one causal domain of geo-fabrics
// (opts.Domain): it does not route the node's publishes (the caller's
// router does).
func StartDomain(node *broker.Node, logger *zap.Logger, opts Options) (*Shell, error) {
	if opts.Domain == nil {
		return nil, fmt.Errorf("shell: StartDomain without a domain: %w", ErrInvalidOptions)
	}
	return start(node, logger, opts)
}

// start is Start without routing the node's publishes to the shell
// (a Standby routes them).
func start(node *broker.Node, logger *zap.Logger, opts Options) (*Shell, error) {
	cfg := node.Config()
	if !cfg.Replicated() {
		return nil, nil
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	opts = opts.withDefaults()
	s := &Shell{
		node:          node,
		cfg:           cfg,
		opts:          opts,
		self:          cfg.Region,
		regions:       cfg.Regions(),
		peers:         cfg.Peers,
		secret:        []byte(cfg.FabricSecret),
		log:           logger.Named("replication").With(zap.String("region", cfg.Region)),
		fs:            node.FS(),
		dir:           filepath.Join(cfg.DataDir, "repl"),
		senders:       make(map[string]*sender),
		peerCur:       make(map[string]peerCur),
		pubCh:         make(chan *pubReq, maxQueuedPublishes),
		netCh:         make(chan netMsg, maxQueuedMessages),
		netBytes:      newByteBudget(maxQueuedMessageBytes),
		ctlCh:         make(chan func(time.Time), maxQueuedControls),
		peerWake:      make(chan struct{}, 1),
		peerWant:      make(map[string]*peerWant),
		steps:         make(chan *step, maxPendingSteps),
		stop:          make(chan struct{}),
		loopDone:      make(chan struct{}),
		completerDone: make(chan struct{}),
		logRate:       lograte.New(0),
	}
	if d := opts.Domain; d != nil {
		if d.Mux == nil || !slices.Contains(d.Regions, s.self) {
			return nil, fmt.Errorf("shell: domain %v without a mux or without this region %s: %w", d.Regions, s.self, ErrInvalidOptions)
		}
		s.regions = slices.Sorted(slices.Values(d.Regions))
		s.domain = strings.Join(s.regions, ",")
		if d.Name != "" {
			s.domain = d.Name
		}
		s.paused.Store(d.Paused)
		if d.OriginTag != "" {
			s.originSuffix = "@" + d.OriginTag
		}
		s.peers = make(map[string]string)
		for _, r := range s.regions {
			if r == s.self {
				continue
			}
			addr, ok := cfg.Peers[r]
			if !ok {
				return nil, fmt.Errorf("shell: domain %s: region %s is not a peer of this node: %w", s.domain, r, ErrInvalidOptions)
			}
			s.peers[r] = addr
		}
		s.dir = filepath.Join(s.dir, DomainDir(s.domain))
		s.secret = DomainSecret(s.secret, s.domain)
		s.log = s.log.With(zap.String("domain", s.domain))
	}
	if _, err := replicator.NewCodec(s.secret); err != nil {
		return nil, fmt.Errorf("shell: %w", err)
	}
	for k, apply := range opts.Kinds {
		if err := s.RegisterKind(k, apply); err != nil {
			return nil, err
		}
	}
	s.codecs.New = func() any { return s.newCodec() }
	policy, err := segment.ParseFsyncPolicy(cfg.Fsync)
	if err != nil {
		return nil, fmt.Errorf("shell: %w", err)
	}
	jopts := segment.Options{
		SegmentMaxBytes: cfg.SegmentMaxBytes,
		Fsync:           policy,
		FsyncInterval:   cfg.FsyncInterval,
		MaxRecordBytes:  replicator.MaxBatchBytes + journalExtraRecordBytes,
	}.WithDefaults()
	s.records = records{store: opts.State, fs: s.fs, dir: s.dir}
	if opts.Journals != nil {
		s.journals, err = givenJournals(s.fs, s.dir, s.regions, opts.Journals)
	} else {
		s.journals, err = openJournals(s.fs, s.dir, s.regions, jopts, s.log)
	}
	if err != nil {
		return nil, err
	}
	if opts.Domain == nil && s.journals.own {
		// Written once (payloads.go): before the restore, which re-applies
		// journal tails by reference and reads streams back.
		s.payloadRefs = true
		node.SetPayloadSource(s)
	}
	if err := s.restore(); err != nil {
		_ = s.journals.close()
		return nil, err
	}
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	for p := range s.peers {
		s.peerWant[p] = &peerWant{}
		if err := s.engine.PeerDown(p); err != nil {
			_ = s.journals.close()
			return nil, err
		}
	}
	if s.evicted, err = s.records.evicted(); err == nil {
		for _, r := range s.evicted {
			if err = s.engine.EvictRegion(r); err != nil {
				break
			}
		}
	}
	if err != nil {
		_ = s.journals.close()
		return nil, fmt.Errorf("shell: restore evictions: %w", err)
	}
	tcfg := transport.Config{
		Self: s.self, Peers: cfg.Peers, ListenAddr: cfg.ReplAddr, Secret: []byte(cfg.FabricSecret),
		WAN:  link.Config{Latency: cfg.WAN.Latency, Jitter: cfg.WAN.Jitter, LossRate: cfg.WAN.Loss},
		Seed: seed, Logger: s.log,
	}
	if cfg.ReplTLS.Enabled() && opts.Domain == nil {
		if tcfg.ServerTLS, tcfg.ClientTLS, err = peerTLS(cfg); err != nil {
			_ = s.journals.close()
			return nil, err
		}
	}
	switch {
	case opts.Domain != nil:
		s.transport, err = opts.Domain.Mux.attach(s.domain, s.regions, s)
	case opts.Mux != nil:
		s.transport, err = opts.Mux.listen(tcfg, s)
	default:
		s.transport, err = transport.Listen(tcfg, s)
	}
	if err != nil {
		_ = s.journals.close()
		return nil, err
	}
	for p := range s.peers {
		x := newSender(s, p)
		s.senders[p] = x
		s.wg.Add(1)
		go x.run()
	}
	// The loop owns the engine once it runs: read what it delivered first.
	delivered := s.engine.Delivered()
	s.wg.Add(1)
	go s.saveLoop()
	go s.loop()
	go s.complete()
	s.log.Info("replication started", zap.String("repl", s.transport.Addr()), zap.Strings("regions", s.regions),
		zap.Any("delivered", delivered))
	return s, nil
}

// newCodec returns a codec for the fabric secret and membership.
func (s *Shell) newCodec() *replicator.Codec {
	c, _ := replicator.NewCodec(s.secret) // checked in Start
	_ = c.SetMembership(s.regions)        // validated names
	return c
}

// Addr is the replication listen address ("" for a nil shell).
func (s *Shell) Addr() string {
	if s == nil {
		return ""
	}
	return s.transport.Addr()
}

// Self is this region's name.
func (s *Shell) Self() string { return s.self }

// Regions returns the fabric's regions.
func (s *Shell) Regions() []string { return append([]string(nil), s.regions...) }

// Close stops replication: no more publishes are accepted, the transport
// stops, every journaled op is applied to its stream and the applied
// watermark is saved, then the journals are closed. A nil shell is a no-op.
func (s *Shell) Close() error {
	if s == nil {
		return nil
	}
	s.closeOnce.Do(func() {
		s.pubMu.Lock()
		s.pubClosed = true
		s.pubMu.Unlock()
		close(s.stop)
		s.netBytes.close()
		var errs []error
		if err := s.transport.Close(); err != nil {
			errs = append(errs, err)
		}
		<-s.loopDone
		<-s.completerDone
		s.wg.Wait()
		s.applies.Wait()
		if v, dirty := s.progress.snapshot(); dirty {
			if err := s.saveWatermark(v); err != nil {
				errs = append(errs, err)
			}
		}
		if err := s.journals.close(); err != nil {
			errs = append(errs, err)
		}
		s.closeErr = errors.Join(errs...)
		s.log.Info("replication stopped")
	})
	return s.closeErr
}

// stopping reports whether Close was called.
func (s *Shell) stopping() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

// fail marks replication failed after a storage error: publishes and
// peer messages are refused until heal rebuilds the engine from the
// journals.
func (s *Shell) fail(err error) {
	if s.failed.CompareAndSwap(nil, &err) {
		s.m.failures.Add(1)
		s.log.Error("replication refuses publishes until the journals and streams can be written again", zap.Error(err))
	}
}

// failure returns the error replication failed with, or nil.
func (s *Shell) failure() error {
	if p := s.failed.Load(); p != nil {
		return fmt.Errorf("%w: %w", ErrFailed, *p)
	}
	return nil
}

// maxReplicatedBodyBytes bounds an op body: it must travel alone in one
// wire message.
const maxReplicatedBodyBytes = replicator.MaxBatchBytes - 64<<10

// PublishStream implements broker.Replicator.
func (s *Shell) PublishStream(st *broker.Stream, recs []segment.Record, done func(first uint64, err error)) {
	bodies := make([][]byte, len(recs))
	for i := range recs {
		bodies[i] = AppendStreamMessage(make([]byte, 0, streamMessageSize(st.Name(), &recs[i])), st.Name(), &recs[i])
		if len(bodies[i]) > maxReplicatedBodyBytes {
			done(0, fmt.Errorf("%w: a replicated message takes at most %d bytes, this one %d",
				broker.ErrMessageTooLarge, maxReplicatedBodyBytes, len(bodies[i])))
			return
		}
	}
	s.submit(&pubReq{stream: st, recs: recs, bodies: bodies, done: done})
}

// PublishOp replicates one op of a registered kind: it is journaled,
// applied locally through the kind's apply function (in causal order with
// remote ops), then shipped to every region. done gets the op's dot, or
// the error, after the local apply.
func (s *Shell) PublishOp(kind Kind, payload []byte, done func(replicator.Dot, error)) {
	body := AppendOp(nil, kind, payload)
	switch {
	case kind == KindStreamMessage || kind == 0:
		done(replicator.Dot{}, fmt.Errorf("shell: publish op of kind %d: %w", kind, ErrUnknownKind))
		return
	case len(body) > maxReplicatedBodyBytes:
		done(replicator.Dot{}, fmt.Errorf("%w: op of %d bytes, max %d", broker.ErrMessageTooLarge, len(body), maxReplicatedBodyBytes))
		return
	}
	s.submit(&pubReq{bodies: [][]byte{body}, opDone: done})
}

// submit queues a publish for the engine, waiting while the queue is full.
func (s *Shell) submit(r *pubReq) {
	if err := s.failure(); err != nil {
		r.fail(err)
		return
	}
	s.pubMu.RLock()
	defer s.pubMu.RUnlock()
	if s.pubClosed {
		r.fail(ErrClosed)
		return
	}
	s.pubCh <- r
}

// Receive implements transport.Handler: it decodes and authenticates a
// peer's message and queues it for the engine.
func (s *Shell) Receive(peer string, msg []byte) {
	c := s.codecs.Get().(*replicator.Codec)
	defer s.codecs.Put(c)
	var m netMsg
	kind, err := replicator.PeekKind(msg)
	if err == nil {
		switch kind {
		case replicator.KindBatch:
			var b replicator.Batch
			if b, err = c.DecodeBatch(msg); err == nil && b.From != peer {
				err = fmt.Errorf("shell: batch from %q on %q's connection: %w", b.From, peer, replicator.ErrInvalidBatch)
			}
			m.batch = &b
			s.m.batchesIn.Add(1)
		case replicator.KindAck:
			var a replicator.Ack
			if a, err = c.DecodeAck(msg); err == nil && a.From != peer {
				err = fmt.Errorf("shell: ack from %q on %q's connection: %w", a.From, peer, replicator.ErrInvalidAck)
			}
			m.ack = &a
			s.m.acksIn.Add(1)
		default:
			err = fmt.Errorf("shell: message kind %d: %w", kind, replicator.ErrVersion)
		}
	}
	if err != nil {
		s.reject(peer, err)
		return
	}
	m.bytes = len(msg)
	if !s.netBytes.acquire(m.bytes) {
		return
	}
	select {
	case s.netCh <- m:
	case <-s.stop:
		s.netBytes.release(m.bytes)
	}
}

// reject counts and logs a refused message (logging less as they repeat).
func (s *Shell) reject(peer string, err error) {
	n := s.m.rejected.Add(1)
	if n&(n-1) == 0 {
		s.log.Warn("peer message refused", zap.String("peer", peer), zap.Uint64("refusedSoFar", n), zap.Error(err))
	} else {
		s.log.Debug("peer message refused", zap.String("peer", peer), zap.Error(err))
	}
}

// PeerState implements transport.Handler.
func (s *Shell) PeerState(peer string, up bool) {
	w := s.peerWant[peer]
	if w == nil {
		return
	}
	if up {
		w.gen.Add(1)
	}
	w.up.Store(up)
	select {
	case s.peerWake <- struct{}{}:
	default:
	}
}

// controlTimeout bounds the wait for the loop in control (it only waits
// that long when the loop is blocked on a full pipeline).
const controlTimeout = 5 * time.Second

// control runs f on the loop goroutine and waits for it, at most
// controlTimeout (ErrBusy; f may still run later and must not share
// unsynchronized state with the caller past that point).
func (s *Shell) control(f func(now time.Time)) error {
	done := make(chan struct{})
	timeout := time.NewTimer(controlTimeout)
	defer timeout.Stop()
	select {
	case s.ctlCh <- func(now time.Time) { f(now); close(done) }:
	case <-s.stop:
		return ErrClosed
	case <-timeout.C:
		return ErrBusy
	}
	select {
	case <-done:
		return nil
	case <-s.stop:
		return ErrClosed
	case <-timeout.C:
		return ErrBusy
	}
}

// SetLinkDown cuts or restores the link to peer (see
// transport.SetLinkDown).
func (s *Shell) SetLinkDown(peer string, down bool) error {
	return s.transport.SetLinkDown(peer, down)
}

// saveWatermark saves the applied watermark v once the streams hold
// durably everything applied at or below it: global streams are appended
// without fsync (broker.Node.SyncReplicated), the journals make them
// durable, and a restart re-applies only what is past the watermark.
func (s *Shell) saveWatermark(v replicator.Vector) error {
	if err := s.node.SyncReplicated(); err != nil {
		return fmt.Errorf("shell: save applied watermark: %w", err)
	}
	return s.records.saveApplied(v)
}

// saveLoop saves the applied watermark periodically.
func (s *Shell) saveLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.SaveInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if v, dirty := s.progress.snapshot(); dirty {
				if err := s.saveWatermark(v); err != nil {
					s.progress.markDirty()
					s.log.Warn("save applied watermark", zap.Error(err))
				}
			}
		}
	}
}

// peerTLS builds mutual TLS for peer traffic: the region's certificate on
// both sides, the fabric CA to verify peers in both directions.
func peerTLS(cfg broker.Config) (server, client *tls.Config, err error) {
	server, err = cfg.ReplTLS.Server(cfg.DataDir, time.Now())
	if err != nil {
		return nil, nil, fmt.Errorf("shell: peer tls: %w", err)
	}
	client, err = tlsutil.ClientConfig(cfg.ReplTLS.ClientCAFile)
	if err != nil {
		return nil, nil, fmt.Errorf("shell: peer tls: %w", err)
	}
	client.Certificates = server.Certificates
	return server, client, nil
}
