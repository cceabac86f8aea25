package shell

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/causeway/causeway/replicator/transport"
)

// Geo-fabrics (replicator/fabric): a fabric pinned to a set of regions
// replicates in that set's causal domain, one Shell per domain on a node,
// every domain's messages over the node's one transport. The shell of
// every region (the node's first, with Options.Mux) listens and passes its
// frames as they are; a domain's shell (Options.Domain) prefixes its
// frames with the domain's name, and its codec authenticates with a
// secret derived from the fabric secret and that name, so that a frame of
// one domain cannot pass for another's.

// domainFrame marks a frame of a domain other than every region's (a
// codec message starts with replicator.WireVersion).
const domainFrame = 0xFD

// maxDomainKeyBytes bounds a domain's name on the wire.
const maxDomainKeyBytes = 4096

// DomainSecret derives a domain's codec secret from the fabric secret.
func DomainSecret(fabricSecret []byte, domain string) []byte {
	m := hmac.New(sha256.New, fabricSecret)
	m.Write([]byte("causeway replication domain\x00"))
	m.Write([]byte(domain))
	return m.Sum(nil)
}

// domainDirPrefix starts a domain's directory name: '@' is not allowed in
// region names, so no region's journal directory can take it.
const domainDirPrefix = "@domain-"

// DomainDir is the directory of a domain's journals and records under the
// node's replication directory.
func DomainDir(domain string) string {
	return domainDirPrefix + strings.ReplaceAll(domain, ",", "+")
}

// wire is what a shell sends through: the transport itself, or a domain's
// view of the transport through the Mux.
type wire interface {
	Send(peer string, msg []byte) bool
	WaitRoom(peer string, stop <-chan struct{}) bool
	Links() []transport.LinkStatus
	Addr() string
	SetLinkDown(peer string, down bool) error
	Close() error
}

// Mux shares one transport among a node's domains. The node's first shell
// (Options.Mux) creates the transport with the Mux as its handler.
type Mux struct {
	mu      sync.RWMutex
	t       *transport.Transport
	base    transport.Handler
	domains map[string]*muxDomain
	up      map[string]bool
	log     *zap.Logger
	// refused counts frames of a domain not running here or from a peer
	// outside it.
	refused atomic.Uint64
}

// NewMux returns an empty Mux.
func NewMux() *Mux {
	return &Mux{domains: make(map[string]*muxDomain), up: make(map[string]bool), log: zap.NewNop()}
}

// Refused counts the frames dropped: of a domain not running here (its
// sender sends them again once it runs) or from a peer outside it.
func (m *Mux) Refused() uint64 { return m.refused.Load() }

func (m *Mux) listen(cfg transport.Config, base transport.Handler) (*transport.Transport, error) {
	m.mu.Lock()
	m.base = base
	if cfg.Logger != nil {
		m.log = cfg.Logger
	}
	m.mu.Unlock()
	t, err := transport.Listen(cfg, m)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.t = t
	m.mu.Unlock()
	return t, nil
}

// Receive implements transport.Handler.
func (m *Mux) Receive(peer string, msg []byte) {
	m.mu.RLock()
	base := m.base
	m.mu.RUnlock()
	if len(msg) == 0 || msg[0] != domainFrame {
		if base != nil {
			base.Receive(peer, msg)
		}
		return
	}
	n, k := binary.Uvarint(msg[1:])
	if k <= 0 || n > maxDomainKeyBytes || uint64(len(msg)-1-k) < n {
		m.refuse(peer, "", "malformed domain frame")
		return
	}
	key := string(msg[1+k : 1+k+int(n)])
	m.mu.RLock()
	d := m.domains[key]
	m.mu.RUnlock()
	switch {
	case d == nil:
		m.refuse(peer, key, "domain not running here")
	case !slices.Contains(d.regions, peer):
		m.refuse(peer, key, "peer outside the domain")
	default:
		d.h.Receive(peer, msg[1+k+int(n):])
	}
}

func (m *Mux) refuse(peer, key, why string) {
	if n := m.refused.Add(1); n&(n-1) == 0 {
		m.log.Info("domain frame dropped", zap.String("peer", peer), zap.String("domain", key), zap.String("why", why),
			zap.Uint64("droppedSoFar", n))
	}
}

// PeerState implements transport.Handler: every domain with the peer
// hears it.
func (m *Mux) PeerState(peer string, up bool) {
	m.mu.Lock()
	m.up[peer] = up
	base := m.base
	var hs []transport.Handler
	for _, d := range m.domains {
		if slices.Contains(d.regions, peer) {
			hs = append(hs, d.h)
		}
	}
	m.mu.Unlock()
	if base != nil {
		base.PeerState(peer, up)
	}
	for _, h := range hs {
		h.PeerState(peer, up)
	}
}

// attach adds a domain's shell; it hears at once which of its peers are
// up.
func (m *Mux) attach(key string, regions []string, h transport.Handler) (*muxDomain, error) {
	m.mu.Lock()
	if m.t == nil {
		m.mu.Unlock()
		return nil, fmt.Errorf("shell: domain %s: the node's replication transport is not running", key)
	}
	if m.domains[key] != nil {
		m.mu.Unlock()
		return nil, fmt.Errorf("shell: domain %s runs already", key)
	}
	prefix := append([]byte{domainFrame}, binary.AppendUvarint(nil, uint64(len(key)))...)
	d := &muxDomain{m: m, key: key, regions: slices.Clone(regions), h: h, prefix: append(prefix, key...)}
	m.domains[key] = d
	var up []string
	for p, ok := range m.up {
		if ok && slices.Contains(regions, p) {
			up = append(up, p)
		}
	}
	m.mu.Unlock()
	slices.Sort(up)
	for _, p := range up {
		h.PeerState(p, true)
	}
	return d, nil
}

// muxDomain is a domain's view of the shared transport.
type muxDomain struct {
	m       *Mux
	key     string
	regions []string
	h       transport.Handler
	prefix  []byte
}

// Send prefixes msg with the domain.
func (d *muxDomain) Send(peer string, msg []byte) bool {
	return d.m.t.SendPrefixed(peer, d.prefix, msg)
}

// WaitRoom waits for room on the shared link to peer.
func (d *muxDomain) WaitRoom(peer string, stop <-chan struct{}) bool {
	return d.m.t.WaitRoom(peer, stop)
}

// Links are the transport's links to the domain's peers.
func (d *muxDomain) Links() []transport.LinkStatus {
	var out []transport.LinkStatus
	for _, l := range d.m.t.Links() {
		if slices.Contains(d.regions, l.Peer) {
			out = append(out, l)
		}
	}
	return out
}

func (d *muxDomain) Addr() string { return d.m.t.Addr() }

func (d *muxDomain) SetLinkDown(peer string, down bool) error { return d.m.t.SetLinkDown(peer, down) }

// Close detaches the domain (the transport stays, the node's).
func (d *muxDomain) Close() error {
	d.m.mu.Lock()
	delete(d.m.domains, d.key)
	d.m.mu.Unlock()
	return nil
}
