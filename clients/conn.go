package clients

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/wsbin"
	"github.com/causeway/causeway/internal/wsbatch"
)

// closeGrace bounds how long a closing connection waits for the server to
// answer its close frame. Reading until that answer drains what the server
// had in flight, so the socket closes with a FIN and the acks written just
// before are not lost to a reset.
const closeGrace = 2 * time.Second

// maxBusyRetries bounds how often a reconnect retries a 409: right after a
// drop the server may still hold this client's previous connection.
const maxBusyRetries = 5

// wsConn is one WebSocket connection: writes are serialised, reads carry a
// deadline that any frame from the server (pongs included) pushes back.
type wsConn struct {
	ws           *websocket.Conn
	batch        *wsbatch.Conn // nil when a custom dialer made the connection
	header       http.Header   // the server's handshake response headers
	writeMu      sync.Mutex
	writeTimeout time.Duration
	readTimeout  time.Duration
	scratch      []byte // read buffer kept between frames (the reader's goroutine only)

	deadlineMu sync.Mutex
	closing    bool // a close frame went out; the read deadline is final

	// Acks are written asynchronously, as Pulsar's clients group them:
	// queued frames go out together, one write syscall per burst. On a
	// binary connection (causeway-binary-v1) acks queue as entries and go
	// out many per frame.
	queueMu sync.Mutex
	queue   [][]byte    // JSON text frames
	acks    []wsbin.Ack // binary acks
	wake    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

// maxQueuedFrames bounds the acks waiting to be written; past it writeAsync
// writes synchronously (backpressure on the acking goroutine).
const maxQueuedFrames = 4096

// maxQueuedAcks bounds the binary acks waiting to be written (one full
// acks frame); past it queueAck writes synchronously.
const maxQueuedAcks = wsbin.MaxAcksPerFrame

func newWSConn(ws *websocket.Conn, batch *wsbatch.Conn, c *Client) *wsConn {
	w := &wsConn{ws: ws, batch: batch, writeTimeout: c.writeTimeout, readTimeout: c.readTimeout,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	go w.flushLoop()
	ws.SetReadLimit(c.maxFrameBytes)
	ws.SetPongHandler(func(string) error { return w.extend() })
	ws.SetPingHandler(func(data string) error {
		_ = w.extend()
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(w.writeTimeout))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	return w
}

func (w *wsConn) extend() error {
	w.deadlineMu.Lock()
	defer w.deadlineMu.Unlock()
	if w.closing {
		return nil
	}
	return w.ws.SetReadDeadline(time.Now().Add(w.readTimeout))
}

// startClose sends a normal close frame and gives the server closeGrace to
// answer it; the reader keeps reading until the answer (a *CloseError) or
// the deadline, then the owner closes the socket.
func (w *wsConn) startClose() {
	w.stopFlusher()
	w.deadlineMu.Lock()
	defer w.deadlineMu.Unlock()
	if w.closing {
		return
	}
	w.closing = true
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	_ = w.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(w.writeTimeout))
	_ = w.ws.SetReadDeadline(time.Now().Add(closeGrace))
}

// read returns the next data frame and its type (websocket.TextMessage or
// BinaryMessage). A close frame from the server comes back as a
// *CloseError.
func (w *wsConn) read() (int, []byte, error) {
	if err := w.extend(); err != nil {
		return 0, nil, err
	}
	typ, data, err := w.readMessage()
	if err != nil {
		var ce *websocket.CloseError
		if errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
			return 0, nil, &CloseError{Code: ce.Code, Reason: ce.Text}
		}
		return 0, nil, err
	}
	return typ, data, nil
}

// readMessage reads the next data frame through a scratch buffer kept
// from frame to frame, then copies it out at its exact size: one copy per
// byte, where gorilla's ReadMessage grows its buffer from 512 bytes by
// doubling (two copies per byte and zeroing, as much as decoding a large
// binary frame costs). The read limit still applies.
func (w *wsConn) readMessage() (int, []byte, error) {
	typ, r, err := w.ws.NextReader()
	if err != nil {
		return 0, nil, err
	}
	buf := w.scratch[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, nil, err
		}
	}
	if cap(buf) <= maxScratchBytes {
		w.scratch = buf
	}
	return typ, append([]byte(nil), buf...), nil // growslice does not zero what it copies over
}

// maxScratchBytes bounds the read buffer a connection keeps between frames.
const maxScratchBytes = 4 << 20

// write sends one text frame, after any queued ones.
func (w *wsConn) write(data []byte) error { return w.writeFrame(websocket.TextMessage, data) }

// writeBinary sends one binary frame, after any queued ones.
func (w *wsConn) writeBinary(data []byte) error { return w.writeFrame(websocket.BinaryMessage, data) }

// writeParts sends one frame of type typ made of parts, after any queued
// frames, without joining them first.
func (w *wsConn) writeParts(typ int, parts [][]byte) error {
	w.flushQueued()
	w.writeMu.Lock()
	defer w.writeMu.Unlock()
	if err := w.ws.SetWriteDeadline(time.Now().Add(w.writeTimeout)); err != nil {
		return err
	}
	mw, err := w.ws.NextWriter(typ)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if _, err := mw.Write(p); err != nil {
			_ = mw.Close()
			return err
		}
	}
	return mw.Close()
}

func (w *wsConn) writeFrame(typ int, data []byte) error {
	w.flushQueued()
	w.writeMu.Lock()
	defer w.writeMu.Unlock()
	if err := w.ws.SetWriteDeadline(time.Now().Add(w.writeTimeout)); err != nil {
		return err
	}
	return w.ws.WriteMessage(typ, data)
}

// writeAsync queues a frame for the flusher; it returns at once unless the
// queue is full, when it writes synchronously. Errors of queued writes
// surface as a broken connection (the server redelivers unacked messages).
func (w *wsConn) writeAsync(data []byte) error {
	w.queueMu.Lock()
	if len(w.queue) >= maxQueuedFrames {
		w.queueMu.Unlock()
		return w.write(data)
	}
	w.queue = append(w.queue, data)
	w.queueMu.Unlock()
	w.signal()
	return nil
}

// queueAck queues a binary ack for the flusher, which writes the acks
// queued meanwhile as one frame. Past maxQueuedAcks it writes them at once.
func (w *wsConn) queueAck(a wsbin.Ack) {
	w.queueMu.Lock()
	w.acks = append(w.acks, a)
	full := len(w.acks) >= maxQueuedAcks
	w.queueMu.Unlock()
	if full {
		w.flushQueued()
		return
	}
	w.signal()
}

func (w *wsConn) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *wsConn) flushLoop() {
	defer close(w.stopped)
	for {
		select {
		case <-w.wake:
			w.flushQueued()
		case <-w.stop:
			w.flushQueued()
			return
		}
	}
}

// flushQueued writes every queued frame, then the queued binary acks as
// one frame, coalesced into one write syscall when the connection allows
// it.
func (w *wsConn) flushQueued() {
	w.queueMu.Lock()
	frames, acks := w.queue, w.acks
	w.queue, w.acks = nil, nil
	w.queueMu.Unlock()
	if len(frames) == 0 && len(acks) == 0 {
		return
	}
	w.writeMu.Lock()
	defer w.writeMu.Unlock()
	if w.batch != nil {
		w.batch.Begin()
		defer func() { _ = w.batch.End() }()
	}
	_ = w.ws.SetWriteDeadline(time.Now().Add(w.writeTimeout))
	for _, f := range frames {
		if err := w.ws.WriteMessage(websocket.TextMessage, f); err != nil {
			return
		}
	}
	for len(acks) > 0 {
		n := min(len(acks), wsbin.MaxAcksPerFrame)
		if err := w.ws.WriteMessage(websocket.BinaryMessage, wsbin.AppendAcks(make([]byte, 0, 8+4*n), acks[:n])); err != nil {
			return
		}
		acks = acks[n:]
	}
}

// stopFlusher writes what is queued and ends the flusher goroutine.
func (w *wsConn) stopFlusher() {
	w.once.Do(func() { close(w.stop) })
	<-w.stopped
}

// keepalive pings every interval until stop is closed or a ping fails.
func (w *wsConn) keepalive(stop <-chan struct{}, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if err := w.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(w.writeTimeout)); err != nil {
				return
			}
		}
	}
}

// close sends a close frame (best effort) unless one went out already, and
// closes the socket, which unblocks a pending read.
func (w *wsConn) close() {
	w.stopFlusher()
	w.deadlineMu.Lock()
	sent := w.closing
	w.closing = true
	w.deadlineMu.Unlock()
	if !sent {
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		_ = w.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	}
	_ = w.ws.Close()
}

// dial opens one connection. An HTTP refusal becomes a *RefusedError; busy
// is the sentinel a 409 maps to.
func (c *Client) dial(ctx context.Context, op, u string, busy error) (*wsConn, error) {
	h := http.Header{}
	if c.token != "" {
		h.Set("Authorization", "Bearer "+c.token)
	}
	d := *c.dialer
	var batch *wsbatch.Conn
	if d.NetDialTLSContext == nil {
		base := d.NetDialContext
		if base == nil {
			base = (&net.Dialer{}).DialContext
		}
		d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := base(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			batch = wsbatch.New(conn)
			return batch, nil
		}
	}
	ws, resp, err := d.DialContext(ctx, u, h)
	if err != nil {
		if resp != nil && errors.Is(err, websocket.ErrBadHandshake) {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
			_ = resp.Body.Close()
			return nil, refused(op, resp.StatusCode, body, busy)
		}
		return nil, fmt.Errorf("clients: %s: dial: %w", op, err)
	}
	conn := newWSConn(ws, batch, c)
	if resp != nil {
		conn.header = resp.Header
	}
	if c.binary && conn.header.Get(wsbin.HeaderProtocol) != wsbin.Protocol {
		conn.close()
		return nil, fmt.Errorf("clients: %s: %w: the server did not confirm %s (a node that predates it?); connect without WithBinaryProtocol",
			op, ErrUnsupported, wsbin.Protocol)
	}
	return conn, nil
}

// connect makes the first connection of a producer, consumer or reader.
// It tries each base URL once, from the client's preferred one, until one
// connects. A refusal another node would repeat (not retriable: 400,
// 401/403, 404, 409, a missing protocol) is returned at once, and so is
// the failure of a pass in which no node answered (nothing to reach).
// When some node answered with a status asking to try again (5xx, 408,
// 429: a stream just created whose leader is being chosen, a failover, no
// quorum), the passes go on with the reconnect backoff between them until
// ctx ends. It returns the rotation standing at the base URL it used.
func (c *Client) connect(ctx context.Context, op string, url func(base) string, busy error) (*wsConn, rotation, error) {
	rot := newRotation(len(c.bases), int(c.preferred.Load()))
	for pass := 0; ; pass++ {
		var errs []error
		tryAgain := false // a node answered, asking to try again
		for range c.bases {
			conn, err := c.dial(ctx, op, url(c.bases[rot.current()]), busy)
			switch {
			case err == nil:
				c.preferred.Store(int32(rot.current()))
				return conn, rot, nil
			case ctx.Err() != nil || !retriable(err):
				return nil, rot, err
			}
			var re *RefusedError
			tryAgain = tryAgain || errors.As(err, &re)
			errs = append(errs, err)
			rot.advance()
		}
		if !tryAgain {
			return nil, rot, allFailed(errs)
		}
		c.log.Debug("connecting: asked to try again", zap.String("op", op), zap.Int("pass", pass+1), zap.Error(errs[len(errs)-1]))
		t := time.NewTimer(backoffDelay(pass, c.backoffMin, c.backoffMax, rand.Float64()))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, rot, fmt.Errorf("%w (gave up: %w)", allFailed(errs), ctx.Err())
		case <-t.C:
		}
	}
}

// allFailed is the error of a first connection no base URL accepted: the
// one error, or all of them (errors.Is and errors.As see each).
func allFailed(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	args := []any{len(errs)}
	for _, err := range errs {
		args = append(args, err)
	}
	// Each error names op already.
	return fmt.Errorf("clients: none of the %d base URLs connected: "+strings.TrimSuffix(strings.Repeat("%w; ", len(errs)), "; "), args...)
}

// redial reconnects with jittered exponential backoff until it succeeds, ctx
// ends (ErrClosed), or the server refuses in a way a retry cannot fix. Each
// attempt goes to the next base URL of rot (the connection that was lost
// or refused used the current one); with one base URL it is always that.
func (c *Client) redial(ctx context.Context, op string, rot *rotation, url func(base) string, busy error, log *zap.Logger) (*wsConn, error) {
	busyLeft := maxBusyRetries
	for attempt := 0; ; attempt++ {
		d := backoffDelay(attempt, c.backoffMin, c.backoffMax, rand.Float64())
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ErrClosed
		case <-t.C:
		}
		at := rot.advance()
		conn, err := c.dial(ctx, op, url(c.bases[at]), busy)
		switch {
		case err == nil:
			c.preferred.Store(int32(at))
			log.Info("reconnected", zap.Int("attempt", attempt+1), zap.Stringer("url", c.bases[at].http))
			return conn, nil
		case ctx.Err() != nil:
			return nil, ErrClosed
		case isBusy(err) && busyLeft > 0:
			busyLeft--
		case !retriable(err):
			return nil, err
		}
		log.Warn("reconnect failed", zap.Int("attempt", attempt+1), zap.Stringer("url", c.bases[at].http), zap.Error(err))
	}
}
