package httpapi

import (
	"fmt"
	"github.com/causeway/causeway/internal/leaderproxy"
	"io"
	"net/http"
	"strconv"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/wsproto"
	"github.com/causeway/causeway/subscription"
)

// streamView is a stream as the API shows it.
type streamView struct {
	Name          string                      `json:"name"`
	Topic         string                      `json:"topic"`
	Persistent    bool                        `json:"persistent"`
	Global        bool                        `json:"global"`
	Partitions    int                         `json:"partitions"`
	CreatedAt     int64                       `json:"createdAt"`
	SizeBytes     int64                       `json:"sizeBytes"`
	Messages      uint64                      `json:"messages"`
	StartOffset   uint64                      `json:"startOffset"`
	EndOffset     uint64                      `json:"endOffset"`
	Producers     []string                    `json:"producers"`
	Subscriptions map[string]subscriptionView `json:"subscriptions,omitempty"`
	// Leader is the node leading the stream in a region of several nodes
	// (0 in a region of one, or while none does). A listing on another
	// node has no figures for it (they are the leader's): GET the stream
	// (answered by its leader) for them.
	Leader uint64 `json:"leader,omitempty"`
}

type subscriptionView struct {
	Type      string         `json:"type"`
	Backlog   uint64         `json:"backlog"`
	Consumers []consumerView `json:"consumers"`
	Stats     statsView      `json:"stats"`
}

type consumerView struct {
	Name    string `json:"name"`
	Unacked int    `json:"unacked"`
	Permits int    `json:"permits"`
}

// statsView is a subscription's cursor and dispatch figures as the API
// shows them (subscription.Stats, camelCase): the answer of GET
// .../subscriptions (each one's "stats") and of reset and skip.
type statsView struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// MarkDelete is the first offset not known to be acknowledged,
	// ReadPosition the next never dispatched, End one past the last.
	MarkDelete   uint64 `json:"markDelete"`
	ReadPosition uint64 `json:"readPosition"`
	End          uint64 `json:"end"`
	Backlog      uint64 `json:"backlog"`
	// AckedRanges counts individually acknowledged ranges above
	// markDelete; RedeliveryQueue the messages waiting for redelivery.
	AckedRanges     int                 `json:"ackedRanges"`
	RedeliveryQueue int                 `json:"redeliveryQueue"`
	Consumers       []consumerStatsView `json:"consumers"`
}

type consumerStatsView struct {
	ID       uint64 `json:"id"`
	Name     string `json:"name"`
	Priority int    `json:"priority"`
	Active   bool   `json:"active"`
	Permits  int    `json:"permits"`
	Unacked  int    `json:"unacked"`
}

func viewStats(st subscription.Stats) statsView {
	v := statsView{Name: st.Name, Type: st.Type.String(), MarkDelete: st.MarkDelete, ReadPosition: st.ReadPosition,
		End: st.End, Backlog: st.Backlog, AckedRanges: st.AckedRanges, RedeliveryQueue: st.RedeliveryQueue,
		Consumers: make([]consumerStatsView, 0, len(st.Consumers))}
	for _, c := range st.Consumers {
		v.Consumers = append(v.Consumers, consumerStatsView{ID: uint64(c.ID), Name: c.Name, Priority: c.Priority,
			Active: c.Active, Permits: c.Permits, Unacked: c.Unacked})
	}
	return v
}

func view(s *broker.Stream, withSubs bool) streamView {
	src := s.Source()
	name := s.Name()
	v := streamView{
		Name: name.Name, Topic: name.String(), Persistent: name.Persistent, Global: s.Info().Global,
		Partitions: s.Info().Partitions, CreatedAt: s.Info().CreatedAt, SizeBytes: s.SizeBytes(),
		Messages: s.Backlog(), StartOffset: src.StartOffset(), EndOffset: src.EndOffset(), Producers: s.ProducerNames(),
	}
	if l, _ := s.Leader(); l.ID != 0 {
		v.Leader = l.ID
	}
	if withSubs {
		v.Subscriptions = map[string]subscriptionView{}
		for subName, st := range s.SubscriptionStats() {
			sv := subscriptionView{Type: st.Type.String(), Backlog: st.Backlog, Stats: viewStats(st), Consumers: []consumerView{}}
			for _, c := range st.Consumers {
				sv.Consumers = append(sv.Consumers, consumerView{Name: c.Name, Unacked: c.Unacked, Permits: c.Permits})
			}
			v.Subscriptions[subName] = sv
		}
	}
	return v
}

// streamName builds the stream from the path; ?persistent=false selects a
// non-persistent stream.
func streamName(r *http.Request) (naming.Stream, error) {
	s := naming.Stream{Persistent: true, Tenant: tenantOf(r), Fabric: r.PathValue("fabric"), Name: r.PathValue("stream")}
	if v := r.URL.Query().Get("persistent"); v != "" {
		p, err := strconv.ParseBool(v)
		if err != nil {
			return s, fmt.Errorf("%w: persistent=%q: want true or false", broker.ErrBadRequest, v)
		}
		s.Persistent = p
	}
	return s, s.Validate()
}

func (h *Handler) listStreams(w http.ResponseWriter, r *http.Request) {
	fabric := r.PathValue("fabric")
	if err := h.node.CheckNamespace(tenantOf(r), fabric); err != nil {
		fail(w, err)
		return
	}
	// ?global=true|false lists only global (or local) streams.
	filter := r.URL.Query().Get("global") != ""
	global := boolParam(r, "global", false)
	out := []streamView{}
	for _, s := range h.node.Streams(tenantOf(r), fabric) {
		if !filter || s.Info().Global == global {
			out = append(out, view(s, false))
		}
	}
	ok(w, http.StatusOK, out)
}

func (h *Handler) createStream(w http.ResponseWriter, r *http.Request) {
	name, err := streamName(r)
	if err != nil {
		fail(w, err)
		return
	}
	// In a fabric with several regions a stream is global unless created
	// with global=false.
	info := broker.StreamInfo{Global: h.node.Config().Replicated()}
	if v := r.URL.Query().Get("global"); v != "" {
		g, err := strconv.ParseBool(v)
		if err != nil {
			fail(w, fmt.Errorf("%w: global=%q: want true or false", broker.ErrBadRequest, v))
			return
		}
		info.Global = g
	}
	if v := r.URL.Query().Get("replicas"); v != "" {
		n, _ := strconv.Atoi(v) // checked by the route's parameters
		if n > 1 && h.node.Config().Cluster == nil {
			fail(w, fmt.Errorf("%w: replicas=%d: this node is a region of its own and holds one copy (replicas apply in a region of several nodes)", broker.ErrBadRequest, n))
			return
		}
		info.Replicas = n
	}
	// The route reads no body: a description sent as one (partitions,
	// replicas) would be silently ignored.
	if b, _ := io.ReadAll(io.LimitReader(r.Body, 1)); len(b) > 0 {
		fail(w, fmt.Errorf("%w: this route reads no body: give global and replicas as query parameters (partitioned streams are created by producers and Kafka topics)", broker.ErrBadRequest))
		return
	}
	// CreateStream lets the node's services create reserved streams in
	// a fabric arriving with them; a client's never brings its fabric.
	if err := h.node.CheckNamespace(name.Tenant, name.Fabric); err != nil {
		fail(w, err)
		return
	}
	s, err := h.node.CreateStream(name, info)
	if err != nil {
		fail(w, err)
		return
	}
	ok(w, http.StatusCreated, view(s, false))
}

func (h *Handler) stream(w http.ResponseWriter, r *http.Request) (*broker.Stream, bool) {
	name, err := streamName(r)
	if err != nil {
		fail(w, err)
		return nil, false
	}
	s, err := h.node.Stream(name)
	if err != nil {
		fail(w, err)
		return nil, false
	}
	// In a region of several nodes the stream's leader answers: its
	// figures and subscriptions are there.
	if leader, local := s.Leader(); !local {
		if leader.ID == 0 || leader.HTTP == "" || leaderproxy.Proxied(r) {
			fail(w, &broker.NotOwnerError{Stream: name, Leader: leader})
			return nil, false
		}
		leaderproxy.Serve(w, r, leader.HTTP, h.log, func(w http.ResponseWriter, err error) {
			fail(w, fmt.Errorf("%w: %v", broker.ErrNotOwner, err))
		})
		return nil, false
	}
	return s, true
}

func (h *Handler) getStream(w http.ResponseWriter, r *http.Request) {
	if s, found := h.stream(w, r); found {
		ok(w, http.StatusOK, view(s, true))
	}
}

func (h *Handler) deleteStream(w http.ResponseWriter, r *http.Request) {
	name, err := streamName(r)
	if err != nil {
		fail(w, err)
		return
	}
	if err := h.node.DeleteStream(name, boolParam(r, "force", false)); err != nil {
		fail(w, err)
		return
	}
	ok(w, http.StatusOK, map[string]string{"deleted": name.String()})
}

func (h *Handler) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	if s, found := h.stream(w, r); found {
		ok(w, http.StatusOK, view(s, true).Subscriptions)
	}
}

func (h *Handler) subscription(w http.ResponseWriter, r *http.Request) (*broker.Stream, *subscription.Subscription, bool) {
	s, found := h.stream(w, r)
	if !found {
		return nil, nil, false
	}
	sub, err := s.Subscription(r.PathValue("sub"))
	if err != nil {
		fail(w, err)
		return nil, nil, false
	}
	return s, sub, true
}

func (h *Handler) deleteSubscription(w http.ResponseWriter, r *http.Request) {
	s, found := h.stream(w, r)
	if !found {
		return
	}
	if err := s.DeleteSubscription(r.PathValue("sub"), boolParam(r, "force", false)); err != nil {
		fail(w, err)
		return
	}
	ok(w, http.StatusOK, map[string]string{"deleted": r.PathValue("sub")})
}

// resetSubscription moves the cursor: ?messageId=<base64 id>|earliest|latest
// or ?timestamp=<Unix ms or RFC 3339>.
func (h *Handler) resetSubscription(w http.ResponseWriter, r *http.Request) {
	s, sub, found := h.subscription(w, r)
	if !found {
		return
	}
	q := r.URL.Query()
	if q.Get("messageId") != "" && q.Get("timestamp") != "" {
		fail(w, fmt.Errorf("%w: %w", broker.ErrBadRequest, errBothPositions))
		return
	}
	var err error
	switch {
	case q.Get("messageId") == "earliest":
		err = sub.Seek(s.Source().StartOffset())
	case q.Get("messageId") == "latest":
		err = sub.Seek(s.Source().EndOffset())
	case q.Get("messageId") != "":
		id, perr := wsproto.ParseMessageID(q.Get("messageId"))
		if perr != nil {
			fail(w, fmt.Errorf("%w: messageId: %v", broker.ErrBadRequest, perr))
			return
		}
		err = sub.Seek(id.Offset)
	case q.Get("timestamp") != "":
		ms, perr := wsproto.ParseTime(q.Get("timestamp"))
		if perr != nil {
			fail(w, fmt.Errorf("%w: timestamp: %v", broker.ErrBadRequest, perr))
			return
		}
		err = sub.SeekTime(ms)
	default:
		fail(w, fmt.Errorf("%w: give messageId (id, earliest, latest) or timestamp", broker.ErrBadRequest))
		return
	}
	if err != nil {
		fail(w, err)
		return
	}
	ok(w, http.StatusOK, viewStats(sub.Stats()))
}

func (h *Handler) skipSubscription(w http.ResponseWriter, r *http.Request) {
	_, sub, found := h.subscription(w, r)
	if !found {
		return
	}
	n, err := strconv.Atoi(r.URL.Query().Get("count"))
	if err != nil || n <= 0 {
		fail(w, fmt.Errorf("%w: count must be a positive integer", broker.ErrBadRequest))
		return
	}
	if err := sub.Skip(n); err != nil {
		fail(w, err)
		return
	}
	ok(w, http.StatusOK, viewStats(sub.Stats()))
}
