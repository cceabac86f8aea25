package ws

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
)

// batchWriteBytes sizes the buffer that coalesces frames into one write.
const batchWriteBytes = 64 << 10

// batchConn coalesces the frames the writer goroutine writes back to back
// into as few write syscalls as possible. Between begin and end, writes are
// buffered; otherwise they go straight through (so a pong gorilla writes
// from the reader goroutine is never held back). gorilla serialises its own
// writes; the mutex orders them against end's flush.
type batchConn struct {
	net.Conn
	mu       sync.Mutex
	buf      *bufio.Writer
	batching bool
}

func newBatchConn(c net.Conn) *batchConn {
	return &batchConn{Conn: c, buf: bufio.NewWriterSize(c, batchWriteBytes)}
}

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.batching {
		return c.buf.Write(p)
	}
	if c.buf.Buffered() > 0 {
		if err := c.buf.Flush(); err != nil {
			return 0, err
		}
	}
	return c.Conn.Write(p)
}

// begin starts buffering writes.
func (c *batchConn) begin() {
	c.mu.Lock()
	c.batching = true
	c.mu.Unlock()
}

// end flushes what was buffered since begin in one write.
func (c *batchConn) end() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batching = false
	return c.buf.Flush()
}

// hijacker hands gorilla a batchConn instead of the raw connection.
type hijacker struct {
	http.ResponseWriter
	conn *batchConn
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("ws: response does not support hijacking")
	}
	c, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = newBatchConn(c)
	return h.conn, brw, nil
}
