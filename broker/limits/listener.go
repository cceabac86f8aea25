package limits

import (
	"net"
	"sync"
)

// Listener bounds the open connections per client address of the listener
// it wraps: a connection past the bound is closed as soon as it is
// accepted (and counted), and Accept goes on with the next one.
type Listener struct {
	net.Listener
	conns   *Counter
	metrics *Metrics
}

// NewListener wraps ln with at most perIP open connections per client
// address (< 0: no limit). m may be nil.
func NewListener(ln net.Listener, perIP int, m *Metrics) *Listener {
	if m == nil {
		m = &Metrics{}
	}
	return &Listener{Listener: ln, conns: NewCounter(perIP), metrics: m}
}

// Accept returns the next connection within the bound.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := hostOf(c.RemoteAddr())
		if !l.conns.Acquire(ip) {
			l.metrics.ConnsRefused.Add(1)
			_ = c.Close()
			continue
		}
		return &countedConn{Conn: c, release: func() { l.conns.Release(ip) }}, nil
	}
}

// Open is the number of open connections from ip.
func (l *Listener) Open(ip string) int { return l.conns.Count(ip) }

func hostOf(a net.Addr) string {
	if a == nil {
		return ""
	}
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}

// countedConn gives its unit back on the first Close.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
