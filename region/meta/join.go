package meta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/region"
)

// The region's internal HTTP API, authenticated with the region secret.
const (
	JoinPath   = "/_api/region/join"
	StatePath  = "/_api/region"
	authHeader = region.AuthHeader
	maxJoinReq = 4 << 10
)

type joinRequest struct {
	Node      uint64 `json:"node"`
	ReplicaID uint64 `json:"replicaID"`
	Raft      string `json:"raft"`
}

// sign authenticates a request (region.Sign).
func sign(secret, method, path string, body []byte) string {
	return region.Sign(secret, method, path, body)
}

// Handler serves the region's internal API: POST JoinPath adds a joining
// node's replica to the group (non-voting; the controller promotes it),
// GET StatePath answers the metadata (a linearizable read). Requests that
// are not signed with the region secret are refused (401) and change
// nothing.
func (g *Group) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+JoinPath, func(w http.ResponseWriter, r *http.Request) {
		body, ok := g.authenticated(w, r)
		if !ok {
			return
		}
		var req joinRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil || req.Node == 0 || req.ReplicaID == 0 || req.Raft == "" || len(req.Raft) > 256 {
			http.Error(w, "meta: a join request names node, replicaID and raft", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), g.cfg.RequestTimeout)
		defer cancel()
		m, err := g.nh.SyncGetShardMembership(ctx, ShardID)
		if err != nil {
			http.Error(w, ErrUnavailable.Error(), http.StatusServiceUnavailable)
			return
		}
		_, voting := m.Nodes[req.ReplicaID]
		_, nonVoting := m.NonVotings[req.ReplicaID]
		if !voting && !nonVoting {
			// A replica of the node's earlier life at the same address is
			// dead (the joiner's disk is empty): it leaves first, so that
			// it never votes again and its address is free.
			if old, ok := replicaAt(m.Nodes, m.NonVotings, req.Raft); ok {
				if old == g.id.ReplicaID {
					http.Error(w, "meta: that raft address is this node's", http.StatusBadRequest)
					return
				}
				if err := g.nh.SyncRequestDeleteReplica(ctx, ShardID, old, m.ConfigChangeID); err != nil {
					http.Error(w, fmt.Sprintf("meta: remove the earlier replica %d: %v", old, err), http.StatusServiceUnavailable)
					return
				}
				g.log.Info("earlier replica of a rejoining node removed", zap.Uint64("replica", old), zap.String("raft", req.Raft))
				if m, err = g.nh.SyncGetShardMembership(ctx, ShardID); err != nil {
					http.Error(w, ErrUnavailable.Error(), http.StatusServiceUnavailable)
					return
				}
			}
			if err := g.nh.SyncRequestAddNonVoting(ctx, ShardID, req.ReplicaID, req.Raft, m.ConfigChangeID); err != nil {
				http.Error(w, fmt.Sprintf("meta: add replica: %v", err), http.StatusServiceUnavailable)
				return
			}
		}
		g.log.Info("node joining the region", zap.Uint64("joiner", req.Node), zap.Uint64("replica", req.ReplicaID), zap.String("raft", req.Raft))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET "+StatePath, func(w http.ResponseWriter, r *http.Request) {
		if _, ok := g.authenticated(w, r); !ok {
			return
		}
		st, err := g.State(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(st)
	})
	return mux
}

func (g *Group) authenticated(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJoinReq+1))
	if err != nil || len(body) > maxJoinReq {
		http.Error(w, "meta: request too large", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	if !region.SignatureValid(g.cfg.Secret, r.Header.Get(authHeader), r.Method, r.URL.Path, body) {
		http.Error(w, "meta: not signed with the region secret", http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

// call sends a signed request to a peer.
func (g *Group) call(ctx context.Context, method, base, path string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set(authHeader, sign(g.cfg.Secret, method, path, body))
	return http.DefaultClient.Do(req)
}

// ranBefore asks the peers whether this node has registered in the region
// before: a listed voter whose disk is empty but whose node the region
// knows lost its disk (it must join under a new replica, never vote again
// as its old one); one the region has never heard of never ran, and
// bootstraps as itself like the other initial voters, however late. A peer
// that answers with the region's state decides; peers that refuse the
// connection or say the group has no quorum yet mean the region is still
// forming; a peer that is slow to answer is asked again, for up to
// 6 × RequestTimeout, before the node concludes it never ran.
func (g *Group) ranBefore() bool {
	deadline := time.Now().Add(6 * g.cfg.RequestTimeout)
	for {
		slow := false
		for _, p := range g.cfg.Peers {
			ctx, cancel := context.WithTimeout(context.Background(), g.cfg.RequestTimeout)
			resp, err := g.call(ctx, http.MethodGet, p, StatePath, nil)
			if err != nil {
				cancel()
				if !errors.Is(err, syscall.ECONNREFUSED) {
					slow = true
				}
				continue
			}
			var st region.State
			ok := resp.StatusCode == http.StatusOK && json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&st) == nil
			resp.Body.Close()
			cancel()
			if ok {
				_, known := st.Nodes[g.cfg.Node]
				return known
			}
		}
		if !slow || time.Now().After(deadline) {
			return false
		}
	}
}

// requestJoin asks the peers, in turn and until one accepts (or
// RequestTimeout passes for each), to add this node's new replica.
func (g *Group) requestJoin() error {
	body, _ := json.Marshal(joinRequest{Node: uint64(g.cfg.Node), ReplicaID: g.id.ReplicaID, Raft: g.cfg.Addrs.Raft})
	var errs []error
	deadline := time.Now().Add(g.cfg.RequestTimeout * 6)
	for time.Now().Before(deadline) {
		for _, p := range g.cfg.Peers {
			ctx, cancel := context.WithTimeout(context.Background(), g.cfg.RequestTimeout)
			resp, err := g.call(ctx, http.MethodPost, p, JoinPath, body)
			cancel()
			if err != nil {
				errs = append(errs, err)
				continue
			}
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return nil
			}
			if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusBadRequest {
				return fmt.Errorf("meta: join refused by %s: %s", p, bytes.TrimSpace(msg))
			}
			errs = append(errs, fmt.Errorf("%s: %s", p, bytes.TrimSpace(msg)))
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("meta: no peer added this node to the region: %w", errors.Join(errs...))
}

// replicaAt finds the replica that has a raft address.
func replicaAt(voting, nonVoting map[uint64]string, addr string) (uint64, bool) {
	for _, set := range []map[uint64]string{voting, nonVoting} {
		for id, a := range set {
			if a == addr {
				return id, true
			}
		}
	}
	return 0, false
}
