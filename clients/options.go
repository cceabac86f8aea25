package clients

import (
	"net/http"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"
)

// Option configures a Client.
type Option func(*Client)

// WithToken authenticates every connection with "Authorization: Bearer token".
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithLogger sets the logger (default: no logging).
func WithLogger(l *zap.Logger) Option {
	return func(c *Client) {
		if l != nil {
			c.log = l
		}
	}
}

// WithTenant sets the tenant of bare stream names (default "_mm").
func WithTenant(tenant string) Option { return func(c *Client) { c.tenant = tenant } }

// WithFabric sets the fabric of bare stream names (default "_system").
func WithFabric(fabric string) Option { return func(c *Client) { c.fabric = fabric } }

// WithDialer sets the WebSocket dialer (TLS, proxy, handshake timeout).
func WithDialer(d *websocket.Dialer) Option {
	return func(c *Client) {
		if d != nil {
			c.dialer = d
		}
	}
}

// WithHTTPClient sets the HTTP client used for admin requests.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) {
		if h != nil {
			c.httpc = h
		}
	}
}

// WithReconnectBackoff bounds the delay between reconnect attempts: it starts
// near min, doubles per failed attempt up to max, and is jittered (default
// 100ms to 30s).
func WithReconnectBackoff(min, max time.Duration) Option {
	return func(c *Client) { c.backoffMin, c.backoffMax = min, max }
}

// WithKeepalive sets how often the client pings an idle connection and how
// long it waits for any frame before it declares the connection dead
// (default 30s and 75s).
func WithKeepalive(pingInterval, readTimeout time.Duration) Option {
	return func(c *Client) { c.pingInterval, c.readTimeout = pingInterval, readTimeout }
}

// WithMaxFrameBytes bounds the size of a frame the client accepts from the
// server (default 64 MiB).
func WithMaxFrameBytes(n int64) Option { return func(c *Client) { c.maxFrameBytes = n } }

// WithBinaryProtocol makes producers, consumers and readers speak
// causeway-binary-v1 (broker/wsbin) instead of Pulsar's JSON frames: a
// batch of messages per publish frame answered by one compact ack, many
// pushed messages per frame, acks many per frame, no base64. It needs a
// server that offers it (Causeway nodes since the protocol was added);
// connecting to one that does not fails with ErrUnsupported. Default off.
func WithBinaryProtocol(enabled bool) Option { return func(c *Client) { c.binary = enabled } }
