package ws

import (
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/causeway/causeway/internal/wsbatch"
)

// writeTimeout bounds one frame write: a client that does not read for this
// long is disconnected instead of holding server memory.
const writeTimeout = 30 * time.Second

// outFrame is one frame for the writer goroutine: a JSON text frame, or a
// binary frame of causeway-binary-v1 (broker/wsbin).
type outFrame struct {
	data   []byte
	binary bool
}

// conn owns one WebSocket's writes: its writer goroutine writes frames from
// a bounded queue and pings the client when idle; a delivery goroutine may
// write a frame itself when nothing is queued (push). writeMu serializes
// the two.
type conn struct {
	ws      *websocket.Conn
	batch   *wsbatch.Conn
	log     *zap.Logger
	out     chan outFrame
	writeMu sync.Mutex
	// queued counts frames send accepted and the writer has not yet
	// written (in the queue or in the writer's hands): push writes a frame
	// itself only when it is zero, so a goroutine's frames keep their order.
	queued  atomic.Int64
	closing chan struct{}
	once    sync.Once
	done    chan struct{} // closed when the writer exits
	ping    time.Duration

	// onOversize counts a frame refused for its size (a metric).
	onOversize func()
	// untrack stops the connection's registration with the node's
	// authentication (set by Server.upgrade; called by Server.release).
	untrack func()

	closeMu     sync.Mutex
	closeCode   int
	closeReason string

	bufs *sync.Pool // of *[]byte: the server's read buffers
}

// maxScratchBytes bounds a read buffer the server keeps for reuse.
const maxScratchBytes = 4 << 20

// readMessage reads the next data frame through a scratch buffer borrowed
// from the server's pool, then copies it out at its exact size: one copy
// per byte, where gorilla's ReadMessage grows its buffer from 512 bytes by
// doubling (two copies per byte and zeroing, as much as decoding a large
// batch frame costs). Idle connections hold no buffer. The read limit
// still applies.
func (c *conn) readMessage() (int, []byte, error) {
	typ, r, err := c.ws.NextReader()
	if err != nil {
		return 0, nil, err
	}
	scratch, _ := c.bufs.Get().(*[]byte)
	if scratch == nil {
		scratch = new([]byte)
	}
	defer func() {
		if cap(*scratch) <= maxScratchBytes {
			c.bufs.Put(scratch)
		}
	}()
	buf := (*scratch)[:0]
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
	*scratch = buf
	return typ, append([]byte(nil), buf...), nil // growslice does not zero what it copies over
}

func newConn(ws *websocket.Conn, batch *wsbatch.Conn, bufs *sync.Pool, log *zap.Logger, queueFrames int, ping time.Duration) *conn {
	c := &conn{
		bufs:    bufs,
		ws:      ws,
		batch:   batch,
		log:     log,
		out:     make(chan outFrame, queueFrames),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
		ping:    ping,
	}
	ws.SetPongHandler(func(string) error {
		return ws.SetReadDeadline(time.Now().Add(3 * ping))
	})
	_ = ws.SetReadDeadline(time.Now().Add(3 * ping))
	go c.writeLoop()
	return c
}

// send queues a frame; it returns false once the connection is closing.
// It blocks while the queue is full (callers size the queue so that the
// storage callback paths never reach that point).
func (c *conn) send(f outFrame) bool {
	c.queued.Add(1)
	select {
	case c.out <- f:
		return true
	case <-c.closing:
		c.queued.Add(-1)
		return false
	}
}

// push is send for a delivery goroutine (a consumer's forwarder, a
// reader's pusher): when nothing is queued and no write is under way it
// writes f from the calling goroutine, saving the writer goroutine's
// wake-up on every delivery (one hop of publish-to-deliver latency);
// otherwise it queues f. The write blocks on a slow client as the full
// queue would, so storage callbacks never call push. It returns false once
// the connection is closing or the write failed.
func (c *conn) push(f outFrame) bool {
	if !c.writeMu.TryLock() {
		return c.send(f)
	}
	if c.queued.Load() != 0 { // earlier frames wait for the writer
		c.writeMu.Unlock()
		return c.send(f)
	}
	select {
	case <-c.closing:
		c.writeMu.Unlock()
		return false
	default:
	}
	// f alone, not a burst: a frame queued after the check above may
	// follow one the writer has already taken and waits to write.
	c.batch.Begin()
	err := c.write(f)
	if ferr := c.batch.End(); err == nil {
		err = ferr
	}
	c.writeMu.Unlock()
	if err != nil {
		c.close(websocket.CloseAbnormalClosure, "")
		return false
	}
	return true
}

// close asks the writer to send a close frame with code and reason and to
// shut the socket. Safe to call many times; the first code wins.
func (c *conn) close(code int, reason string) {
	c.closeMu.Lock()
	if c.closeCode == 0 {
		c.closeCode, c.closeReason = code, reason
	}
	c.closeMu.Unlock()
	c.once.Do(func() { close(c.closing) })
}

func (c *conn) writeLoop() {
	defer close(c.done)
	defer c.ws.Close()
	ticker := time.NewTicker(c.ping)
	defer ticker.Stop()
	for {
		select {
		case f := <-c.out:
			c.writeMu.Lock()
			err := c.writeBurst(f)
			c.writeMu.Unlock()
			if err != nil {
				c.close(websocket.CloseAbnormalClosure, "")
				c.drainAfterClose()
				return
			}
		case <-ticker.C:
			c.writeMu.Lock()
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
			err := c.ws.WriteMessage(websocket.PingMessage, nil)
			c.writeMu.Unlock()
			if err != nil {
				c.close(websocket.CloseAbnormalClosure, "")
				return
			}
		case <-c.closing:
			// Flush what is already queued (acks of durable messages), then
			// close. The lock stays held: a push finds the connection closing.
			c.writeMu.Lock()
			defer c.writeMu.Unlock()
		flush:
			for {
				select {
				case f := <-c.out:
					err := c.write(f)
					c.queued.Add(-1)
					if err != nil {
						return
					}
				default:
					break flush
				}
			}
			c.closeMu.Lock()
			code, reason := c.closeCode, c.closeReason
			c.closeMu.Unlock()
			if code != websocket.CloseAbnormalClosure {
				_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, truncateReason(reason)),
					time.Now().Add(time.Second))
			}
			return
		}
	}
}

// maxBurstFrames bounds how many queued frames are coalesced into one write.
const maxBurstFrames = 256

// writeBurst writes f and whatever else is already queued (up to
// maxBurstFrames) with one write syscall: a consumer receiving a stream of
// small messages costs one syscall per burst, not per message. The caller
// holds writeMu.
func (c *conn) writeBurst(f outFrame) error {
	c.batch.Begin()
	err := c.write(f)
	c.queued.Add(-1)
burst:
	for n := 1; err == nil && n < maxBurstFrames; n++ {
		select {
		case next := <-c.out:
			err = c.write(next)
			c.queued.Add(-1)
		default:
			break burst
		}
	}
	if ferr := c.batch.End(); err == nil {
		err = ferr
	}
	return err
}

func (c *conn) write(f outFrame) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	typ := websocket.TextMessage
	if f.binary {
		typ = websocket.BinaryMessage
	}
	return c.ws.WriteMessage(typ, f.data)
}

func (c *conn) drainAfterClose() {
	for {
		select {
		case <-c.out:
			c.queued.Add(-1)
		default:
			return
		}
	}
}

// truncateReason keeps a close reason within the 123 bytes a close frame allows.
func truncateReason(s string) string {
	if len(s) > 120 {
		return s[:120]
	}
	return s
}
