package ws

import (
	"fmt"
	"net/http"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/wsproto"
	"github.com/causeway/causeway/internal/leaderproxy"
)

// errLeadersDiffer: a multi-stream consumer whose streams are led by
// different nodes of the region cannot be proxied to one of them.
var errLeadersDiffer = fmt.Errorf("%w: the streams of this consumer are led by different nodes of the region; subscribe to each on its own", broker.ErrBadRequest)

// proxyToLeader serves a WebSocket request whose streams another node of
// the region leads by proxying the whole connection to that node (Pulsar
// WebSocket clients do not follow redirects). It returns false when this
// node leads them (or is a region of one) and the caller serves the
// request itself; otherwise it answered.
func (s *Server) proxyToLeader(w http.ResponseWriter, r *http.Request, ep wsproto.Endpoint, what string) bool {
	if s.node.Config().Cluster == nil {
		return false // a region of one node leads everything
	}
	var leader broker.ClusterNode
	remote := 0
	for _, name := range ep.Streams {
		// Only a stream that exists is looked up here: one the request
		// would create is created by its handler, once the request's
		// parameters are checked (it may then be led elsewhere: the
		// client is refused with 503 and, trying again, proxied).
		st, err := s.node.Stream(name)
		if err != nil {
			return false
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
	case leaderproxy.Proxied(r):
		// The node that sent it here thought this one leads: the views
		// differ for a moment; the client tries again.
		refuse(w, what, &broker.NotOwnerError{Stream: ep.Streams[0], Leader: leader})
		return true
	}
	s.log.Debug("proxying to the stream's leader", zap.String("stream", ep.Streams[0].String()), zap.Uint64("leader", leader.ID))
	leaderproxy.Serve(w, r, leader.HTTP, s.log, func(w http.ResponseWriter, err error) {
		refuse(w, what, fmt.Errorf("%w: node %d: %v", broker.ErrNotOwner, leader.ID, err))
	})
	return true
}
