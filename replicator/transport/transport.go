package transport

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/link"
)

// Handler receives what arrives from peers.
type Handler interface {
	// Receive is called on an inbound connection's goroutine with one frame
	// from peer (the connection's authenticated hello named it). It may
	// block: that is backpressure on the peer's connection. msg is not
	// reused by the transport.
	Receive(peer string, msg []byte)
	// PeerState is called when the link to peer becomes usable (connected
	// and not cut) or stops being usable. It must not block.
	PeerState(peer string, up bool)
}

// Transport is one node's side of the replication network.
type Transport struct {
	cfg   Config
	h     Handler
	log   *zap.Logger
	ln    net.Listener
	peers map[string]*peer
	slots chan struct{} // one per inbound connection, cap MaxInbound

	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	inbound map[net.Conn]struct{}
	closed  bool
}

// Listen validates cfg, binds its listener and starts dialing every peer.
func Listen(cfg Config, h Handler) (*Transport, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if _, err := replicator.NewCodec(cfg.Secret); err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("transport: listen %s: %w", cfg.ListenAddr, err)
	}
	if cfg.ServerTLS != nil {
		ln = tls.NewListener(ln, cfg.ServerTLS)
	}
	t := &Transport{
		cfg:     cfg,
		h:       h,
		log:     cfg.Logger.Named("transport"),
		ln:      ln,
		peers:   make(map[string]*peer, len(cfg.Peers)),
		slots:   make(chan struct{}, cfg.MaxInbound),
		stop:    make(chan struct{}),
		inbound: make(map[net.Conn]struct{}),
	}
	for name, list := range cfg.Peers {
		addrs, err := ParseAddrs(list)
		if err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("transport: peer %s: %w", name, err)
		}
		l, err := link.New(cfg.WAN, linkSeed(cfg.Seed, cfg.Self, name))
		if err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("transport: link to %s: %w", name, err)
		}
		t.peers[name] = newPeer(t, name, addrs, l)
	}
	t.wg.Add(1)
	go t.acceptLoop()
	for _, p := range t.peers {
		t.wg.Add(2)
		go p.delayLoop()
		go p.connLoop()
	}
	t.log.Info("replication transport listening", zap.String("addr", ln.Addr().String()),
		zap.Duration("wanLatency", cfg.WAN.Latency), zap.Duration("wanJitter", cfg.WAN.Jitter),
		zap.Float64("wanLoss", cfg.WAN.LossRate))
	return t, nil
}

// linkSeed derives a per-link seed from the transport seed and the names.
func linkSeed(seed uint64, from, to string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(from))
	h.Write([]byte{0})
	h.Write([]byte(to))
	return seed ^ h.Sum64()
}

// Addr is the address the transport listens on.
func (t *Transport) Addr() string { return t.ln.Addr().String() }

// Peers returns the configured peers, sorted.
func (t *Transport) Peers() []string {
	out := make([]string, 0, len(t.peers))
	for p := range t.peers {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Send queues msg for peer through the emulated WAN without blocking. It
// reports false when the frame was dropped (unknown peer, cut link,
// emulated loss, full queue).
func (t *Transport) Send(peer string, msg []byte) bool {
	p := t.peers[peer]
	if p == nil {
		return false
	}
	return p.send(AppendFrame(make([]byte, 0, frameHeaderBytes+len(msg)), msg))
}

// WaitRoom blocks until what is held for peer (frames queued for the
// connection and held back by the emulated WAN) is at most half of its
// bounds, so that the next frame or two are not dropped for lack of room:
// a sender of data calls it before each Send and goes at the link's pace
// instead of overrunning it. It returns at once for an unknown peer, a
// cut link or one not connected (nothing drains their queue; frames past
// it are dropped as before), and false when stop or the transport closes
// first, or after WriteTimeout (the connection is stuck; the next Send
// drops as it would have).
func (t *Transport) WaitRoom(peer string, stop <-chan struct{}) bool {
	p := t.peers[peer]
	if p == nil {
		return true
	}
	return p.waitRoom(stop)
}

// SendPrefixed is Send of prefix followed by msg, in one frame (a
// domain's frames: replicator/shell's Mux).
func (t *Transport) SendPrefixed(peer string, prefix, msg []byte) bool {
	p := t.peers[peer]
	if p == nil {
		return false
	}
	frame := binary.BigEndian.AppendUint32(make([]byte, 0, frameHeaderBytes+len(prefix)+len(msg)), uint32(len(prefix)+len(msg)))
	return p.send(append(append(frame, prefix...), msg...))
}

// SetLinkDown cuts (true) or restores (false) the link to peer in both
// directions as seen from this node: frames to the peer are dropped,
// frames arriving from it are discarded, and frames held by the emulated
// WAN are lost, as in a real cut.
func (t *Transport) SetLinkDown(peer string, down bool) error {
	p := t.peers[peer]
	if p == nil {
		return fmt.Errorf("transport: link to %q: %w", peer, ErrUnknownPeer)
	}
	p.setDown(down)
	t.log.Info("link state set", zap.String("peer", peer), zap.Bool("down", down))
	return nil
}

// SetWAN changes the emulated network of every outbound link.
func (t *Transport) SetWAN(cfg link.Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("transport: %w", err)
	}
	for _, p := range t.peers {
		p.setWAN(cfg)
	}
	return nil
}

// LinkStatus describes the link to one peer.
type LinkStatus struct {
	Peer string `json:"peer"`
	// Addr is the peer's address connected or being dialed (one of its
	// configured list).
	Addr string `json:"addr"`
	// Connected: the outbound connection is established. Down: an
	// operator cut the link. Up: connected and not cut.
	Connected bool `json:"connected"`
	Down      bool `json:"down"`
	Up        bool `json:"up"`
	// The emulated WAN.
	Latency time.Duration `json:"latencyNanos"`
	Jitter  time.Duration `json:"jitterNanos"`
	Loss    float64       `json:"loss"`
	// Frames handed to Send, dropped by the emulated WAN or a cut, dropped
	// because a queue was full, and written to the connection.
	Frames     uint64 `json:"frames"`
	LinkDrops  uint64 `json:"linkDrops"`
	QueueDrops uint64 `json:"queueDrops"`
	Written    uint64 `json:"written"`
	// Delayed is how many frames the emulated WAN holds.
	Delayed int `json:"delayed"`
}

// Links returns the status of every outbound link, sorted by peer.
func (t *Transport) Links() []LinkStatus {
	out := make([]LinkStatus, 0, len(t.peers))
	for _, name := range t.Peers() {
		out = append(out, t.peers[name].status())
	}
	return out
}

// Close stops accepting, closes every connection and waits for the
// transport's goroutines. Handler.Receive must return for it to finish.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return ErrClosed
	}
	t.closed = true
	for c := range t.inbound {
		_ = c.Close()
	}
	t.mu.Unlock()
	close(t.stop)
	err := t.ln.Close()
	for _, p := range t.peers {
		p.closeConn()
	}
	t.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("transport: close listener: %w", err)
	}
	return nil
}

// stopped reports whether Close was called.
func (t *Transport) stopped() bool {
	select {
	case <-t.stop:
		return true
	default:
		return false
	}
}
