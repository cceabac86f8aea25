// Package wsbatch owns write coalescing for WebSocket connections: a
// net.Conn wrapper that buffers the frames a writer emits back to back and
// sends them with one write syscall, used by the server (broker/ws) and the
// Go client (clients) alike.
package wsbatch

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
)

// BufferBytes sizes the buffer that coalesces frames into one write.
const BufferBytes = 64 << 10

// Conn coalesces writes made between Begin and End into as few write
// syscalls as possible; outside them, writes go straight through (so a
// control frame written by another goroutine is never held back). gorilla
// serialises its own writes; the mutex orders them against End's flush.
type Conn struct {
	net.Conn
	mu       sync.Mutex
	buf      *bufio.Writer
	batching bool
}

// New wraps c.
func New(c net.Conn) *Conn {
	return &Conn{Conn: c, buf: bufio.NewWriterSize(c, BufferBytes)}
}

// Write buffers p between Begin and End, and writes it through otherwise.
func (c *Conn) Write(p []byte) (int, error) {
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

// Begin starts buffering writes.
func (c *Conn) Begin() {
	c.mu.Lock()
	c.batching = true
	c.mu.Unlock()
}

// End flushes what was buffered since Begin in one write.
func (c *Conn) End() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batching = false
	return c.buf.Flush()
}

// Hijacker wraps a ResponseWriter so that a WebSocket upgrader hijacks a
// *Conn instead of the raw connection; Conn is set once Hijack ran.
type Hijacker struct {
	http.ResponseWriter
	Conn *Conn
}

// Hijack implements http.Hijacker.
func (h *Hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("wsbatch: response does not support hijacking")
	}
	c, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.Conn = New(c)
	return h.Conn, brw, nil
}
