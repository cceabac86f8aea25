package ws

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/broker/wsbin"
	"github.com/causeway/causeway/broker/wsproto"
	"github.com/causeway/causeway/internal/wsbatch"
)

// Server serves the WebSocket API of one node.
type Server struct {
	node     *broker.Node
	log      *zap.Logger
	upgrader websocket.Upgrader
	ping     time.Duration

	handoff  handoff   // producers reconnecting under the same name
	readBufs sync.Pool // of *[]byte: scratch buffers of frame reads (conn.readMessage)

	mu     sync.Mutex
	conns  map[*conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// New returns a Server for node. Mount it on "/ws/" and "/_ws/".
func New(node *broker.Node) *Server {
	return &Server{
		node: node,
		log:  node.Logger().Named("ws"),
		upgrader: websocket.Upgrader{
			ReadBufferSize:  64 << 10,
			WriteBufferSize: 64 << 10,
			// Browsers send Origin; Causeway authenticates by token, not by
			// origin, so cross-origin WebSocket clients are allowed.
			CheckOrigin: func(*http.Request) bool { return true },
		},
		ping:  node.Config().WSPingInterval,
		conns: map[*conn]struct{}{},
	}
}

// ServeHTTP routes a WebSocket request to its handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep, err := wsproto.ParsePath(r.URL.Path, r.URL.Query().Get("topics"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	if err := checkParams(r, ep.Kind); err != nil {
		refuse(w, "Invalid query params", err)
		return
	}
	// ?global=true|false chooses local or global when the stream is created
	// by this connection (geo-replication); the path's c8global/c8local wins.
	if v := r.URL.Query().Get("global"); v != "" && ep.Global == nil {
		g, err := strconv.ParseBool(v)
		if err != nil {
			http.Error(w, fmt.Sprintf("global=%q: want true or false", v), http.StatusBadRequest)
			return
		}
		ep.Global = &g
	}
	what := map[wsproto.Kind]string{wsproto.Producer: "Failed to create producer", wsproto.Consumer: "Failed to subscribe",
		wsproto.Reader: "Failed to create reader"}[ep.Kind]
	// Only streams are created by use: a stream of an unknown tenant or
	// fabric (a typo) is refused before anything is created, for every
	// stream of a consumer of several.
	for _, name := range ep.Streams {
		err := s.node.CheckNamespace(name.Tenant, name.Fabric)
		if err == nil {
			err = s.node.FabricReady(name.Tenant, name.Fabric)
		}
		if err != nil {
			refuse(w, what, err)
			return
		}
	}
	if s.proxyToLeader(w, r, ep, what) {
		return
	}
	switch ep.Kind {
	case wsproto.Producer:
		s.serveProducer(w, r, ep)
	case wsproto.Consumer:
		s.serveConsumer(w, r, ep)
	case wsproto.Reader:
		s.serveReader(w, r, ep)
	}
}

// upgrade completes the handshake and registers the connection.
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request, header http.Header, queueFrames int, log *zap.Logger) (*conn, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, broker.ErrClosed.Error(), http.StatusServiceUnavailable)
		return nil, broker.ErrClosed
	}
	s.wg.Add(1)
	s.mu.Unlock()
	hj := &wsbatch.Hijacker{ResponseWriter: w}
	wsc, err := s.upgrader.Upgrade(hj, r, header)
	if err != nil {
		s.wg.Done()
		return nil, err // the upgrader already answered
	}
	c := newConn(wsc, hj.Conn, &s.readBufs, log, queueFrames, s.ping)
	// Consumers and readers only send commands (acks, permits, seeks);
	// producers raise the limit to fit their messages.
	wsc.SetReadLimit(maxCommandFrameBytes)
	c.onOversize = func() { s.node.Metrics().RejectedFrames.Add(1) }
	// Revoking the key the connection authenticated with, or the expiry
	// of its token, closes it with 1008 (policy violation) and the reason.
	c.untrack = auth.TrackRequest(r.Context(), func(err error) {
		log.Info("closing: its credentials are no longer valid", zap.Error(err))
		c.close(wsproto.ClosePolicy, err.Error())
	})
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	s.node.Metrics().Connections.Add(1)
	return c, nil
}

// release unregisters a connection once both its goroutines are done.
func (s *Server) release(c *conn) {
	<-c.done
	c.untrack()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.node.Metrics().Connections.Add(-1)
	s.wg.Done()
}

// Shutdown closes every connection with "going away" after flushing what
// each has queued, and waits for them (bounded by ctx).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.close(websocket.CloseGoingAway, "server shutting down")
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// refuse answers a failed handshake with the error's HTTP status, as Pulsar
// does ("Failed to subscribe: ...").
func refuse(w http.ResponseWriter, prefix string, err error) {
	http.Error(w, prefix+": "+err.Error(), broker.HTTPStatus(err))
}

// intParam parses an optional integer query parameter within [lo, hi].
func intParam(r *http.Request, name string, def, lo, hi int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%w: query parameter %s=%q: want an integer in %d..%d", broker.ErrBadRequest, name, v, lo, hi)
	}
	return n, nil
}

func boolParam(r *http.Request, name string) (bool, error) {
	switch v := r.URL.Query().Get(name); v {
	case "":
		return false, nil
	default:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("%w: query parameter %s=%q: want true or false", broker.ErrBadRequest, name, v)
		}
		return b, nil
	}
}

// readLoop reads data frames until the socket fails or closes, handing each
// to handle with its type (websocket.TextMessage or BinaryMessage). The
// read size is bounded by the upgraded connection's limit.
func readLoop(c *conn, handle func(typ int, data []byte)) {
	for {
		typ, data, err := c.readMessage()
		if err != nil {
			var ce *websocket.CloseError
			switch {
			case errors.As(err, &ce):
				c.close(websocket.CloseNormalClosure, "")
			case errors.Is(err, websocket.ErrReadLimit):
				if c.onOversize != nil {
					c.onOversize()
				}
				c.close(wsproto.CloseTooLarge, "frame larger than the limit")
			default:
				c.close(websocket.CloseAbnormalClosure, "")
			}
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(3 * c.ping))
		if typ != websocket.TextMessage && typ != websocket.BinaryMessage {
			continue
		}
		select {
		case <-c.closing:
			return
		default:
		}
		handle(typ, data)
	}
}

// protocolParam reads the protocol query parameter: true asks for
// causeway-binary-v1 (broker/wsbin), false (absent or "json") for Pulsar's
// JSON frames.
func protocolParam(r *http.Request) (binary bool, err error) {
	switch v := r.URL.Query().Get(wsbin.ProtocolParam); v {
	case "", wsbin.ProtocolJSON:
		return false, nil
	case wsbin.Protocol:
		return true, nil
	default:
		return false, fmt.Errorf("%w: query parameter %s=%q: want %s or %s", broker.ErrBadRequest, wsbin.ProtocolParam, v, wsbin.ProtocolJSON, wsbin.Protocol)
	}
}

// protocolHeader confirms the binary protocol on the upgrade response.
func protocolHeader(h http.Header, binary bool) http.Header {
	if !binary {
		return h
	}
	if h == nil {
		h = http.Header{}
	}
	h.Set(wsbin.HeaderProtocol, wsbin.Protocol)
	return h
}
