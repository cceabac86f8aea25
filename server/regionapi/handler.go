package regionapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/region/ship"
)

// Paths this package serves (region/meta serves /_api/region and
// /_api/region/join).
const (
	// StatePath answers View: an admin endpoint (the node's request gate
	// admits superusers only on /_api/ paths outside a fabric).
	StatePath = "/_api/region/state"
	// LeaderPath answers whether this node leads the metadata group:
	// between the region's nodes, signed with the region secret.
	LeaderPath = "/_api/region/leader"
	// ReplicasPath answers this node's replicas of the region's units:
	// role, epoch, log bounds, high watermark and, on leaders, the
	// in-sync set and each follower's progress (an admin endpoint).
	ReplicasPath = "/_api/region/replicas"
)

// probeTimeout bounds asking the peers which of them leads the group.
const probeTimeout = time.Second

// maxSmallBody bounds the bodies of internal requests and answers.
const maxSmallBody = 4 << 10

// Group is the node's replica of its region's metadata group (meta.Group).
type Group interface {
	// State is a linearizable read of the region's metadata.
	State(ctx context.Context) (*region.State, error)
	// Leading reports whether this node leads the group.
	Leading() bool
	// Self is this node in its current life.
	Self() region.Member
}

// Handler serves StatePath and LeaderPath for one node.
type Handler struct {
	region string
	secret string
	group  Group
	client *http.Client
	log    *zap.Logger
}

// New returns the handler of the node whose replica is g, in regionName,
// whose nodes share secret.
func New(regionName, secret string, g Group, log *zap.Logger) *Handler {
	return &Handler{region: regionName, secret: secret, group: g, log: log,
		client: &http.Client{Timeout: probeTimeout}}
}

// leaderAnswer is the answer of LeaderPath.
type leaderAnswer struct {
	Node        region.NodeID `json:"node"`
	Incarnation uint64        `json:"incarnation"`
	Leading     bool          `json:"leading"`
}

// ServeState answers GET StatePath with the View of a linearizable read,
// or 503 when the group has no quorum (this node may be cut off).
func (h *Handler) ServeState(w http.ResponseWriter, r *http.Request) {
	st, err := h.group.State(r.Context())
	if err != nil {
		respond(w, http.StatusServiceUnavailable, nil, err)
		return
	}
	self := h.group.Self().Node
	respond(w, http.StatusOK, NewView(h.region, self, h.leader(r.Context(), st), st), nil)
}

// ServeReplicas answers GET ReplicasPath with this node's replicas.
func ServeReplicas(w http.ResponseWriter, replicas []ship.Status) {
	respond(w, http.StatusOK, replicas, nil)
}

// ServeLeader answers GET LeaderPath when it is signed with the region
// secret (401 otherwise).
func (h *Handler) ServeLeader(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSmallBody+1))
	if err != nil || len(body) > maxSmallBody {
		respond(w, http.StatusRequestEntityTooLarge, nil, errors.New("regionapi: request too large"))
		return
	}
	if !signed(h.secret, r, body) {
		respond(w, http.StatusUnauthorized, nil, errors.New("regionapi: not signed with the region secret"))
		return
	}
	self := h.group.Self()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(leaderAnswer{Node: self.Node, Incarnation: self.Incarnation, Leading: h.group.Leading()})
}

// leader finds the node leading the group: this one, or the first other
// node of st that says it leads (asked in parallel, within probeTimeout);
// 0 when none does.
func (h *Handler) leader(ctx context.Context, st *region.State) region.NodeID {
	self := h.group.Self().Node
	if h.group.Leading() {
		return self
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	found := make(chan region.NodeID, len(st.Nodes))
	asked := 0
	for _, id := range st.NodeIDs() {
		n := *st.Nodes[id]
		if id == self || n.Addrs.HTTP == "" {
			continue
		}
		asked++
		go func() { found <- h.probe(ctx, n) }()
	}
	for range asked {
		if id := <-found; id != 0 {
			return id
		}
	}
	return 0
}

// probe asks node n whether it leads the group; its id if it says so in
// the life the region knows, else 0.
func (h *Handler) probe(ctx context.Context, n region.Node) region.NodeID {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(n.Addrs.HTTP, "/")+LeaderPath, nil)
	if err != nil {
		return 0
	}
	req.Header.Set(region.AuthHeader, sign(h.secret, http.MethodGet, LeaderPath, nil))
	resp, err := h.client.Do(req)
	if err != nil {
		h.log.Debug("leader probe failed", zap.Uint64("peer", uint64(n.ID)), zap.Error(err))
		return 0
	}
	defer resp.Body.Close()
	var a leaderAnswer
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, maxSmallBody)).Decode(&a) != nil {
		h.log.Debug("leader probe refused", zap.Uint64("peer", uint64(n.ID)), zap.Int("status", resp.StatusCode))
		return 0
	}
	if a.Leading && a.Node == n.ID && a.Incarnation == n.Incarnation {
		return n.ID
	}
	return 0
}

// respond writes the ArangoDB-style envelope the HTTP API uses.
func respond(w http.ResponseWriter, status int, result any, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := map[string]any{"error": err != nil, "code": status}
	if err != nil {
		body["errorNum"] = status
		body["errorMessage"] = err.Error()
	} else {
		body["result"] = result
	}
	_ = json.NewEncoder(w).Encode(body)
}

// Refuse answers a request with the API's error envelope (status and err).
func Refuse(w http.ResponseWriter, status int, err error) { respond(w, status, nil, err) }
