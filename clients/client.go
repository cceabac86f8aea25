package clients

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/naming"
)

// Defaults of a Client.
const (
	defaultBackoffMin    = 100 * time.Millisecond
	defaultBackoffMax    = 30 * time.Second
	defaultPingInterval  = 30 * time.Second
	defaultReadTimeout   = 75 * time.Second
	defaultMaxFrameBytes = 64 << 20
	defaultWriteTimeout  = 10 * time.Second
	defaultHandshake     = 10 * time.Second
	// defaultConnectTimeout bounds the TCP connect of the default dialer:
	// a node cut off the network (no refusal, no answer) costs this much
	// before the next node of the service URL is tried, not the whole
	// handshake timeout.
	defaultConnectTimeout = 3 * time.Second
	// defaultBufferBytes sizes the default dialer's read and write buffers:
	// a frame goes out in fragments of the write buffer, one syscall each.
	defaultBufferBytes = 64 << 10
)

// Client holds what every producer, consumer and reader of one server (or
// of the nodes of one region) shares: the base URLs, credentials, tenant and
// fabric defaults, the dialer and the reconnect policy. It is safe for
// concurrent use.
type Client struct {
	bases []base // one per node, in the order the service URL lists them
	// preferred is the index in bases of the base URL the last successful
	// connection used: new producers, consumers and readers start there.
	preferred atomic.Int32

	token          string
	log            *zap.Logger
	tenant, fabric string
	dialer         *websocket.Dialer
	httpc          *http.Client

	backoffMin, backoffMax    time.Duration
	pingInterval, readTimeout time.Duration
	writeTimeout              time.Duration
	maxFrameBytes             int64
	binary                    bool // causeway-binary-v1 instead of JSON frames

	mu     sync.Mutex
	closed bool
	open   map[closer]struct{} // producers, consumers and readers to close with the client
}

type closer interface{ Close() error }

// New returns a client for the server at serviceURL ("http://host:port";
// https, ws and wss are accepted too), or for the nodes of a region listed
// in it separated by commas, as in Pulsar's multi-host service URL:
// "http://a:8080,http://b:8080,http://c:8080", or "http://a:8080,b:8080,c:8080"
// where the later elements take the first's scheme. With several, a
// connection starts on the node the client last connected to (the first
// listed at the start) and tries the others in turn when it cannot connect;
// a connection that fails, is refused with a retryable status (5xx, 408,
// 429) or is closed by the server reconnects to the next node, round robin,
// with the reconnect backoff between attempts. Any node serves any stream
// (the region proxies to the stream's leader), so the order only spreads
// the load. No connection is made until a producer, consumer or reader is
// created.
func New(serviceURL string, opts ...Option) (*Client, error) {
	c := &Client{
		log:    zap.NewNop(),
		tenant: naming.DefaultTenant,
		fabric: naming.SystemFabric,
		dialer: &websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: defaultHandshake,
			NetDialContext: (&net.Dialer{Timeout: defaultConnectTimeout}).DialContext,
			ReadBufferSize: defaultBufferBytes, WriteBufferSize: defaultBufferBytes},
		httpc:         &http.Client{Timeout: 30 * time.Second},
		backoffMin:    defaultBackoffMin,
		backoffMax:    defaultBackoffMax,
		pingInterval:  defaultPingInterval,
		readTimeout:   defaultReadTimeout,
		writeTimeout:  defaultWriteTimeout,
		maxFrameBytes: defaultMaxFrameBytes,
		open:          make(map[closer]struct{}),
	}
	for _, o := range opts {
		o(c)
	}
	var err error
	if c.bases, err = parseServiceURL(serviceURL); err != nil {
		return nil, err
	}
	if err := naming.Validate("tenant", c.tenant); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	if err := naming.Validate("fabric", c.fabric); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	switch {
	case c.backoffMin <= 0 || c.backoffMax < c.backoffMin:
		return nil, fmt.Errorf("%w: reconnect backoff %v..%v: want 0 < min <= max", ErrInvalidArgument, c.backoffMin, c.backoffMax)
	case c.pingInterval <= 0 || c.readTimeout <= c.pingInterval:
		return nil, fmt.Errorf("%w: keepalive ping %v, read timeout %v: want 0 < ping < timeout", ErrInvalidArgument, c.pingInterval, c.readTimeout)
	case c.maxFrameBytes <= 0:
		return nil, fmt.Errorf("%w: max frame bytes %d", ErrInvalidArgument, c.maxFrameBytes)
	case strings.ContainsAny(c.token, "\r\n"):
		return nil, fmt.Errorf("%w: token contains a line break", ErrInvalidArgument)
	}
	return c, nil
}

// Close closes every producer, consumer and reader created from the client.
// Messages not yet acknowledged by the server complete with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	open := c.open
	c.open = nil
	c.mu.Unlock()
	for o := range open {
		_ = o.Close()
	}
	return nil
}

// track registers o to be closed with the client.
func (c *Client) track(o closer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	c.open[o] = struct{}{}
	return nil
}

func (c *Client) untrack(o closer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.open, o)
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// resolve turns a user's stream name into a full name: a bare name gets the
// client's tenant and fabric; "tenant/fabric/stream" and
// "persistent://tenant/fabric/stream" are taken as written.
func (c *Client) resolve(name string) (naming.Stream, error) {
	s, err := resolveStream(name, c.tenant, c.fabric)
	if err != nil {
		return s, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	return s, nil
}
