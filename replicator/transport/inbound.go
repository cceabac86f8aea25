package transport

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/replicator"
)

// readBufferBytes sizes the buffered reader of a connection.
const readBufferBytes = 64 << 10

func (t *Transport) acceptLoop() {
	defer t.wg.Done()
	for {
		conn, err := t.ln.Accept()
		if err != nil {
			if t.stopped() || errors.Is(err, net.ErrClosed) {
				return
			}
			t.log.Warn("accept", zap.Error(err))
			select {
			case <-t.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		select {
		case t.slots <- struct{}{}:
		default:
			t.log.Warn("too many inbound connections, refusing one", zap.String("remote", conn.RemoteAddr().String()),
				zap.Int("max", t.cfg.MaxInbound))
			_ = conn.Close()
			continue
		}
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			_ = conn.Close()
			<-t.slots
			return
		}
		t.inbound[conn] = struct{}{}
		t.mu.Unlock()
		t.wg.Add(1)
		go t.serveInbound(conn)
	}
}

// serveInbound reads a peer's hello, then hands every frame to the handler.
func (t *Transport) serveInbound(conn net.Conn) {
	defer t.wg.Done()
	defer func() {
		t.mu.Lock()
		delete(t.inbound, conn)
		t.mu.Unlock()
		_ = conn.Close()
		<-t.slots
	}()
	log := t.log.With(zap.String("remote", conn.RemoteAddr().String()))
	br := bufio.NewReaderSize(conn, readBufferBytes)
	_ = conn.SetReadDeadline(time.Now().Add(t.cfg.HelloTimeout))
	p, err := t.readHello(br)
	if err != nil {
		log.Warn("inbound connection refused", zap.Error(err))
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	log = log.With(zap.String("peer", p.name))
	log.Debug("inbound connection from peer")
	for {
		msg, err := ReadFrame(br, t.cfg.MaxFrameBytes)
		if err != nil {
			if errors.Is(err, io.EOF) || t.stopped() || errors.Is(err, net.ErrClosed) {
				log.Debug("inbound connection closed", zap.Error(err))
			} else {
				log.Warn("inbound connection dropped", zap.Error(err))
			}
			return
		}
		if p.isDown() {
			p.inboundDrops.Add(1)
			continue
		}
		t.h.Receive(p.name, msg)
	}
}

// readHello reads and checks a connection's first frame: an Ack sealed
// with the fabric secret, from a configured peer, to this region.
func (t *Transport) readHello(r io.Reader) (*peer, error) {
	msg, err := ReadFrame(r, maxHelloBytes)
	if err != nil {
		return nil, fmt.Errorf("transport: hello: %w: %w", err, ErrBadHello)
	}
	codec, err := replicator.NewCodec(t.cfg.Secret)
	if err != nil {
		return nil, err
	}
	a, err := codec.DecodeAck(msg)
	if err != nil {
		return nil, fmt.Errorf("transport: hello: %w: %w", err, ErrBadHello)
	}
	p := t.peers[a.From]
	if p == nil || a.To != t.cfg.Self || len(a.Delivered) != 0 {
		return nil, fmt.Errorf("transport: hello from %q to %q: %w", a.From, a.To, ErrBadHello)
	}
	return p, nil
}

// maxHelloBytes bounds the hello frame.
const maxHelloBytes = 1024

// hello returns the hello frame this region sends to peer.
func (t *Transport) hello(peer string) ([]byte, error) {
	codec, err := replicator.NewCodec(t.cfg.Secret)
	if err != nil {
		return nil, err
	}
	msg, err := codec.AppendAck(nil, replicator.Ack{From: t.cfg.Self, To: peer})
	if err != nil {
		return nil, fmt.Errorf("transport: hello: %w", err)
	}
	return AppendFrame(nil, msg), nil
}
