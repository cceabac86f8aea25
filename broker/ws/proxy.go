package ws

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/wsproto"
)

// ProxiedHeader marks a request one node of the region proxied to another:
// the receiver serves it or refuses it, it never proxies it again (the two
// nodes' views of who leads may differ for a moment).
const ProxiedHeader = "X-Causeway-Proxied"

// errLeadersDiffer: a multi-stream consumer whose streams are led by
// different nodes of the region cannot be proxied to one of them.
var errLeadersDiffer = fmt.Errorf("%w: the streams of this consumer are led by different nodes of the region; subscribe to each on its own", broker.ErrBadRequest)

// proxyToLeader serves a WebSocket request whose streams another node of
// the region leads by proxying the whole connection to that node (Pulsar
// WebSocket clients do not follow redirects). It returns false when this
// node leads them (or is a region of one) and the caller serves the
// request itself; otherwise it answered.
func (s *Server) proxyToLeader(w http.ResponseWriter, r *http.Request, ep wsproto.Endpoint, what string) bool {
	var leader broker.ClusterNode
	remote := 0
	for _, name := range ep.Streams {
		st, err := s.node.StreamForUse(name, ep.Global)
		if err != nil {
			refuse(w, what, err)
			return true
		}
		l, local := st.Leader()
		if local {
			continue
		}
		if l.ID == 0 || l.HTTP == "" {
			refuse(w, what, &broker.NotOwnerError{Stream: name, Leader: l})
			return true
		}
		if remote > 0 && l.ID != leader.ID {
			refuse(w, what, errLeadersDiffer)
			return true
		}
		leader = l
		remote++
	}
	switch {
	case remote == 0:
		return false
	case remote < len(ep.Streams):
		refuse(w, what, errLeadersDiffer)
		return true
	case r.Header.Get(ProxiedHeader) != "":
		// The node that sent it here thought this one leads: the views
		// differ for a moment; the client tries again.
		refuse(w, what, &broker.NotOwnerError{Stream: ep.Streams[0], Leader: leader})
		return true
	}
	target, err := url.Parse(leader.HTTP)
	if err != nil {
		refuse(w, what, fmt.Errorf("%w: leader address %q: %v", broker.ErrNotOwner, leader.HTTP, err))
		return true
	}
	s.log.Debug("proxying to the stream's leader", zap.String("stream", ep.Streams[0].String()), zap.Uint64("leader", leader.ID))
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = target.Host
			pr.Out.Header.Set(ProxiedHeader, "1")
			pr.SetXForwarded()
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			refuse(w, what, fmt.Errorf("%w: proxying to node %d: %v", broker.ErrNotOwner, leader.ID, err))
		},
		ErrorLog: zap.NewStdLog(s.log),
	}
	proxy.ServeHTTP(w, r)
	return true
}

// isNotOwner reports whether err says another node leads the stream.
func isNotOwner(err error) bool { return errors.Is(err, broker.ErrNotOwner) }
