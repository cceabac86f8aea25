package transport

import (
	"bufio"
	"container/heap"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/replicator/link"
)

// writeBufferBytes sizes the buffered writer of an outbound connection.
const writeBufferBytes = 64 << 10

// peer is the outbound side of the link to one region: the emulated WAN,
// the queue of frames to write and the connection with its redial loop.
type peer struct {
	t     *Transport
	name  string
	addrs []string // the region's nodes, dialed in turn (ParseAddrs)
	log   *zap.Logger

	mu           sync.Mutex
	link         *link.Link
	addr         string // the address connected or being dialed
	down         bool   // cut by an operator
	connected    bool
	reported     bool // last up state reported to the handler
	conn         net.Conn
	delayed      delayHeap
	delayedBytes int
	times        []time.Time // scratch for link.Send
	seq          uint64      // orders delayed frames with equal times
	lastAt       time.Time   // latest arrival time given to a frame

	wake chan struct{} // cap 1: a frame entered delayed
	out  chan []byte   // framed, ready to write; cap MaxQueuedFrames
	// room is closed, and cleared, once the frames held for the peer fall
	// to the level a waiting sender goes on at (WaitRoom); nil while no
	// sender waits. roomWanted is set by a sender about to wait, so that
	// freed, which runs on every written frame, takes the lock only then.
	room       chan struct{}
	roomWanted atomic.Bool

	frames, linkDrops, queueDrops, written, inboundDrops atomic.Uint64
	queuedBytes                                          atomic.Int64 // bytes in out
}

func newPeer(t *Transport, name string, addrs []string, l *link.Link) *peer {
	return &peer{
		t: t, name: name, addrs: addrs, addr: addrs[0], link: l,
		log:  t.log.With(zap.String("peer", name)),
		wake: make(chan struct{}, 1),
		out:  make(chan []byte, t.cfg.MaxQueuedFrames),
	}
}

// send passes one frame through the emulated WAN.
func (p *peer) send(frame []byte) bool {
	p.frames.Add(1)
	now := time.Now()
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		p.linkDrops.Add(1)
		return false
	}
	p.times = p.link.Send(now, p.times[:0])
	if len(p.times) == 0 {
		p.mu.Unlock()
		p.linkDrops.Add(1)
		return false
	}
	ok, woke := false, false
	for _, at := range p.times {
		// A connection delivers in order: jitter delays a frame and the
		// frames behind it, it does not let them overtake it.
		if at.Before(p.lastAt) {
			at = p.lastAt
		}
		p.lastAt = at
		if !at.After(now) && len(p.delayed) == 0 {
			ok = p.enqueue(frame) || ok
			continue
		}
		if p.delayedBytes+len(frame) > p.t.cfg.MaxDelayedBytes {
			p.queueDrops.Add(1)
			continue
		}
		p.seq++
		heap.Push(&p.delayed, delayedFrame{at: at, seq: p.seq, frame: frame})
		p.delayedBytes += len(frame)
		ok, woke = true, true
	}
	p.mu.Unlock()
	if woke {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	return ok
}

// enqueue hands a frame to the writer without blocking.
func (p *peer) enqueue(frame []byte) bool {
	n := int64(len(frame))
	if q := p.queuedBytes.Add(n); q > int64(p.t.cfg.MaxQueuedBytes) && q > n {
		p.queuedBytes.Add(-n)
		p.queueDrops.Add(1)
		return false
	}
	select {
	case p.out <- frame:
		return true
	default:
		p.queuedBytes.Add(-n)
		p.queueDrops.Add(1)
		return false
	}
}

// dequeued accounts for a frame taken from out.
func (p *peer) dequeued(frame []byte) {
	p.queuedBytes.Add(-int64(len(frame)))
	p.freed()
}

// hasRoomLocked reports whether what is held for the peer (queued for the
// writer, held back by the emulated WAN) is at most half of its bounds, so
// that a sender that waited for it can add a frame without a drop.
func (p *peer) hasRoomLocked() bool {
	cfg := p.t.cfg
	held := p.queuedBytes.Load() + int64(p.delayedBytes)
	return held <= int64(min(cfg.MaxQueuedBytes, cfg.MaxDelayedBytes)/2) && len(p.out) <= cfg.MaxQueuedFrames/2
}

// mayGoLocked reports whether a sender waiting for room may go on: the
// peer has room, or its link is cut or not connected (see waitRoom).
func (p *peer) mayGoLocked() bool { return p.down || !p.connected || p.hasRoomLocked() }

// waitRoom blocks until the peer has room (hasRoomLocked), or while its
// link is cut or not connected (nothing drains the queue then, and frames
// past it are dropped: a sender must not wait on a peer that may be gone
// for hours, holding its acks back). False when stop or the transport
// closed first, or after WriteTimeout: a connection that does not drain
// for that long is stuck, and the caller's frame is then dropped as it
// would have been without waiting.
func (p *peer) waitRoom(stop <-chan struct{}) bool {
	var timeout <-chan time.Time
	for {
		p.mu.Lock()
		if p.mayGoLocked() {
			p.mu.Unlock()
			return true
		}
		p.roomWanted.Store(true) // then check again: see freed
		if p.mayGoLocked() {
			p.mu.Unlock()
			return true
		}
		if p.room == nil {
			p.room = make(chan struct{})
		}
		room := p.room
		p.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(p.t.cfg.WriteTimeout)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-room:
		case <-stop:
			return false
		case <-p.t.stop:
			return false
		case <-timeout:
			return false
		}
	}
}

// freed wakes the senders waiting for room once there is room. A waiter
// sets roomWanted before its last check of the level, so either this sees
// the flag or the waiter sees the bytes just freed.
func (p *peer) freed() {
	if !p.roomWanted.Load() {
		return
	}
	p.mu.Lock()
	if p.mayGoLocked() {
		if p.room != nil {
			close(p.room)
			p.room = nil
		}
		p.roomWanted.Store(false)
	}
	p.mu.Unlock()
}

// delayLoop releases frames held by the emulated WAN when they are due.
func (p *peer) delayLoop() {
	defer p.t.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		p.mu.Lock()
		now := time.Now()
		for len(p.delayed) > 0 && !p.delayed[0].at.After(now) {
			f := heap.Pop(&p.delayed).(delayedFrame)
			p.delayedBytes -= len(f.frame)
			p.enqueue(f.frame)
		}
		wait := time.Duration(-1)
		if len(p.delayed) > 0 {
			wait = p.delayed[0].at.Sub(now)
		}
		p.mu.Unlock()
		var tick <-chan time.Time
		if wait >= 0 {
			timer.Reset(wait)
			tick = timer.C
		}
		select {
		case <-p.t.stop:
			return
		case <-p.wake:
		case <-tick:
		}
	}
}

// connLoop keeps a connection to the peer and writes queued frames to it.
// It dials the peer's addresses in turn, moving to the next one when a
// dial or the hello fails or a connection breaks: only the node leading
// the peer region's journals runs a transport, the others refuse. It
// backs off once per full round of failed addresses, so a dead node costs
// no wait once another one answers.
func (p *peer) connLoop() {
	defer p.t.wg.Done()
	cfg := p.t.cfg
	hello, err := p.t.hello(p.name)
	if err != nil {
		p.log.Error("cannot build hello", zap.Error(err))
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-p.t.stop
		cancel()
	}()
	dialer := net.Dialer{Timeout: cfg.DialTimeout}
	failures, next := 0, 0
	for !p.t.stopped() {
		addr := p.addrs[next]
		next = (next + 1) % len(p.addrs)
		p.setAddr(addr)
		conn, err := p.dial(ctx, &dialer, addr, hello)
		if err != nil {
			if failures == 0 {
				p.log.Info("cannot reach peer, retrying", zap.String("addr", addr), zap.Error(err))
			} else {
				p.log.Debug("cannot reach peer", zap.String("addr", addr), zap.Error(err))
			}
			failures++
			if wait, ok := roundBackoff(failures, len(p.addrs), cfg.BackoffMin, cfg.BackoffMax); ok && !p.sleep(wait) {
				return
			}
			continue
		}
		p.log.Info("connected to peer", zap.String("addr", addr), zap.Int("failedAttempts", failures))
		failures = 0
		if !p.setConn(conn) {
			_ = conn.Close()
			return
		}
		p.serve(conn, addr)
		p.setConn(nil)
		_ = conn.Close()
		if !p.sleep(cfg.BackoffMin) {
			return
		}
	}
}

// dial connects to addr (with TLS when configured) and writes the hello.
func (p *peer) dial(ctx context.Context, dialer *net.Dialer, addr string, hello []byte) (net.Conn, error) {
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if p.t.cfg.ClientTLS != nil {
		if conn, err = clientTLS(ctx, conn, p.t.cfg.ClientTLS, addr); err != nil {
			return nil, err
		}
	}
	_ = conn.SetWriteDeadline(time.Now().Add(p.t.cfg.WriteTimeout))
	if _, err := conn.Write(hello); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("transport: hello to %s: %w", addr, err)
	}
	return conn, nil
}

// roundBackoff tells whether to wait after the n-th consecutive failed
// attempt on a peer of addrs addresses, and how long: only when n ends a
// full round of the addresses, backoff(rounds) then.
func roundBackoff(n, addrs int, lo, hi time.Duration) (time.Duration, bool) {
	if addrs < 1 || n%addrs != 0 {
		return 0, false
	}
	return backoff(n/addrs, lo, hi), true
}

// serve writes queued frames to conn until it breaks or the transport
// stops. The peer never writes on this connection: a read returning means
// it closed.
func (p *peer) serve(conn net.Conn, addr string) {
	broken := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, conn)
		close(broken)
		_ = conn.Close()
	}()
	bw := bufio.NewWriterSize(conn, writeBufferBytes)
	for {
		var frame []byte
		select {
		case <-p.t.stop:
			return
		case <-broken:
			p.log.Info("connection to peer closed", zap.String("addr", addr))
			return
		case frame = <-p.out:
			p.dequeued(frame)
		}
		_ = conn.SetWriteDeadline(time.Now().Add(p.t.cfg.WriteTimeout))
		for {
			if _, err := bw.Write(frame); err != nil {
				p.log.Info("connection to peer broke", zap.String("addr", addr), zap.Error(err))
				return
			}
			p.written.Add(1)
			select {
			case frame = <-p.out:
				p.dequeued(frame)
				continue
			default:
			}
			break
		}
		if err := bw.Flush(); err != nil {
			p.log.Info("connection to peer broke", zap.String("addr", addr), zap.Error(err))
			return
		}
	}
}

// sleep waits d or until the transport stops (false).
func (p *peer) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.t.stop:
		return false
	case <-t.C:
		return true
	}
}

// backoff is the wait after the n-th consecutive failure: doubling from
// min, capped at max, with up to 50% jitter subtracted.
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d - time.Duration(rand.Int64N(int64(d)/2+1))
}

// setConn records the current connection (nil: none) and reports the
// link's state; false when the transport is closing.
func (p *peer) setConn(conn net.Conn) bool {
	p.mu.Lock()
	if conn != nil && p.t.stopped() {
		p.mu.Unlock()
		return false
	}
	p.conn = conn
	p.connected = conn != nil
	p.reportLocked()
	p.mu.Unlock()
	p.freed() // no connection: a waiting sender goes on (see waitRoom)
	return true
}

// setAddr records the address being dialed (shown by status).
func (p *peer) setAddr(addr string) {
	p.mu.Lock()
	p.addr = addr
	p.mu.Unlock()
}

func (p *peer) closeConn() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn != nil {
		_ = p.conn.Close()
	}
}

func (p *peer) setDown(down bool) {
	p.mu.Lock()
	p.down = down
	if down {
		p.linkDrops.Add(uint64(len(p.delayed)))
		clear(p.delayed)
		p.delayed = p.delayed[:0]
		p.delayedBytes = 0
	}
	p.reportLocked()
	p.mu.Unlock()
	p.freed() // a cut link has room: its frames are dropped
}

func (p *peer) isDown() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.down
}

func (p *peer) setWAN(cfg link.Config) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cfg.Down = false
	_ = p.link.SetConfig(cfg)
}

// reportLocked tells the handler when the usable state changed.
func (p *peer) reportLocked() {
	up := p.connected && !p.down
	if up != p.reported {
		p.reported = up
		p.t.h.PeerState(p.name, up)
	}
}

func (p *peer) status() LinkStatus {
	p.mu.Lock()
	cfg := p.link.Config()
	s := LinkStatus{
		Peer: p.name, Addr: p.addr, Connected: p.connected, Down: p.down, Up: p.connected && !p.down,
		Latency: cfg.Latency, Jitter: cfg.Jitter, Loss: cfg.LossRate, Delayed: len(p.delayed),
	}
	p.mu.Unlock()
	s.Frames, s.LinkDrops, s.QueueDrops, s.Written = p.frames.Load(), p.linkDrops.Load(), p.queueDrops.Load(), p.written.Load()
	return s
}

// delayedFrame is a frame held by the emulated WAN until at.
type delayedFrame struct {
	at    time.Time
	seq   uint64
	frame []byte
}

// delayHeap orders delayed frames by time, then by send order.
type delayHeap []delayedFrame

func (h delayHeap) Len() int { return len(h) }
func (h delayHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h delayHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *delayHeap) Push(x any)   { *h = append(*h, x.(delayedFrame)) }
func (h *delayHeap) Pop() any {
	old := *h
	f := old[len(old)-1]
	old[len(old)-1] = delayedFrame{}
	*h = old[:len(old)-1]
	return f
}

// clientTLS runs the TLS handshake of an outbound connection, verifying
// the peer's certificate for the host of addr unless cfg names a server.
func clientTLS(ctx context.Context, conn net.Conn, cfg *tls.Config, addr string) (net.Conn, error) {
	c := cfg.Clone()
	if c.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		c.ServerName = host
	}
	tc := tls.Client(conn, c)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("transport: tls handshake with %s: %w", addr, err)
	}
	return tc, nil
}
