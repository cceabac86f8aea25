package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections/aql"
	"github.com/causeway/causeway/collections/query"
	"github.com/causeway/causeway/collections/store"
)

// A region of several nodes (Options.Cluster). A collection's op log and
// change feed are persistent streams, hence units of the region, each
// replicated on several nodes and led by one. The node leading a
// collection's op log serves the collection: its view is materialized
// there from the op log (every replica of the log holds every
// acknowledged op), its writes are sequenced there, and the other nodes'
// HTTP front ends proxy its requests to it (Locate). When the lead moves,
// the new leader first appends a barrier to the op log (once it is
// acknowledged, everything the log held before it is too), then brings its
// own view up to the log (replay) and serves. What every node must see
// alike - the collections, their indexes, saved queries - is the catalog,
// kept in the region's key-value map (Cluster); each node's loop
// (clusterloop.go) follows it.

// Cluster is the region of several nodes a service runs in: its
// replicated key-value map and its nodes. The server implements it over
// the region's metadata group; it may be handed over before the node is in
// the group (its methods then fail with an error the service answers as
// unavailable, and Changed's channel closes once it is).
type Cluster interface {
	// KVRead reads a key as of a linearizable read.
	KVRead(ctx context.Context, key string) (value string, found bool, err error)
	// KVScan returns every key starting with prefix and its value, as of
	// a linearizable read.
	KVScan(ctx context.Context, prefix string) (map[string]string, error)
	// KVPut and KVDelete return once a majority of the region committed
	// the change.
	KVPut(ctx context.Context, key, value string) error
	KVDelete(ctx context.Context, key string) error
	// Changed returns a channel closed at the next change of the region's
	// metadata or of the units this node leads.
	Changed() <-chan struct{}
	// Self is this node's id in the region (0 before it is in its group).
	Self() uint64
	// NodeURL returns the HTTP base URL of a node of the region.
	NodeURL(id uint64) (string, bool)
	// CreateStreams creates persistent streams in the region, all placed
	// on the same replicas (so that one node leads them all but for
	// moments of failover); streams that exist are not an error.
	CreateStreams(ctx context.Context, names []naming.Stream, info broker.StreamInfo) error
	// ReplicationNode returns the node running the region's
	// geo-replication (the one leading its journals and, with them, every
	// collection's streams); false without geo-replication or while no
	// node leads them all.
	ReplicationNode() (id uint64, ok bool)
}

// ElsewhereError says that another node of the region serves a request:
// the node leading the collection's op log, or the node holding a query
// cursor. The HTTP front end proxies the request there.
type ElsewhereError struct {
	What string // the collection (tenant/fabric/name) or cursor
	Node uint64
	URL  string
}

func (e *ElsewhereError) Error() string {
	return fmt.Sprintf("%v: %s is served by node %d of the region (%s); ask it, or retry", ErrUnavailable, e.What, e.Node, e.URL)
}

// Unwrap makes the error a 503 where it is answered rather than proxied
// (a request already proxied once, while two nodes disagree for a moment
// on who leads).
func (e *ElsewhereError) Unwrap() error { return ErrUnavailable }

// Bounds of the region mode.
const (
	// clusterTimeout bounds one read or write of the region's map.
	clusterTimeout = 10 * time.Second
	// clusterOpenWait bounds how long a request for a collection this node
	// leads waits for the collection to open (the barrier and replay).
	clusterOpenWait = 10 * time.Second
	// clusterCreateWait bounds how long creating a collection waits for a
	// node to lead its op log.
	clusterCreateWait = 15 * time.Second
)

// Keys of the catalog in the region's map.
const (
	catalogPrefix = "collections/c/" // + tenant/fabric/name: store.CollectionInfo as JSON
	queriesPrefix = "collections/q/" // + tenant/fabric/name: store.SavedQuery as JSON
)

func catalogKey(ref Ref) string {
	return catalogPrefix + ref.Tenant + "/" + ref.Fabric + "/" + ref.Collection
}

func queryKey(tenant, fabric, name string) string {
	return queriesPrefix + tenant + "/" + fabric + "/" + name
}

// clustered reports whether the service runs in a region of several nodes.
func (s *Service) clustered() bool { return s.cluster != nil }

// Clustered reports whether the service runs in a region of several nodes
// (Options.Cluster).
func (s *Service) Clustered() bool { return s.clustered() }

// clusterCtx is a context bounding one call to the region's map.
func clusterCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), clusterTimeout)
}

// clusterErr marks a failure to reach the region's map as unavailability.
func clusterErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %s in the region: %w", ErrUnavailable, what, err)
}

// opLogName is the op-log stream of ref.
func opLogName(ref Ref) naming.Stream {
	return naming.Stream{Persistent: true, Tenant: ref.Tenant, Fabric: ref.Fabric, Name: OpLogStream(ref.Collection)}
}

// changeFeedName is the change-feed stream of ref.
func changeFeedName(ref Ref) naming.Stream {
	return naming.Stream{Persistent: true, Tenant: ref.Tenant, Fabric: ref.Fabric, Name: ChangeFeedStream(ref.Collection)}
}

// Locate says where ref's requests are served in a region of several
// nodes: nil for this node (always in a region of one, and for a
// collection the region does not hold: this node answers 404), an
// *ElsewhereError naming the node leading the collection's op log, or an
// error wrapping ErrUnavailable while no node leads it.
func (s *Service) Locate(ref Ref) error {
	if !s.clustered() {
		return nil
	}
	s.mu.RLock()
	_, served := s.cols[ref]
	s.mu.RUnlock()
	if served {
		return nil
	}
	if naming.Validate("fabric", ref.Fabric) != nil || opLogName(ref).Validate() != nil {
		return nil // this node refuses it
	}
	st, err := s.node.Stream(opLogName(ref))
	if err != nil {
		return nil // not in the region (yet): answered here
	}
	leader, local := st.Leader()
	switch {
	case local:
		return nil // opening here: the request waits for it
	case leader.ID == 0 || leader.HTTP == "":
		return fmt.Errorf("%w: %s: no node of the region leads its op log now; retry", ErrUnavailable, ref)
	}
	return &ElsewhereError{What: ref.String(), Node: leader.ID, URL: leader.HTTP}
}

// LocateQuery is Locate for the collection a query reads (nil when the
// text does not parse: this node answers the error).
func (s *Service) LocateQuery(tenant, fabric, text string) error {
	if !s.clustered() {
		return nil
	}
	if aql.IsAQL(text) {
		return s.locateAQL(tenant, fabric, text)
	}
	q, err := query.Parse(text)
	if err != nil {
		return nil
	}
	return s.Locate(Ref{Tenant: tenant, Fabric: fabric, Collection: q.Collection})
}

// LocateSavedQuery is LocateQuery for a saved query (nil when there is no
// such query: this node answers 404).
func (s *Service) LocateSavedQuery(tenant, fabric, name string) error {
	if !s.clustered() || naming.Validate("fabric", fabric) != nil {
		return nil
	}
	q, err := s.clusterSavedQuery(tenant, fabric, name)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrCorrupt) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.LocateQuery(tenant, fabric, q.Value)
}

// LocateCursor says where a query cursor lives: nil for this node (or a
// region of one), an *ElsewhereError naming the node that opened it.
func (s *Service) LocateCursor(id string) error {
	if !s.clustered() {
		return nil
	}
	node, ok := cursorNode(id)
	if !ok || node == s.cluster.Self() {
		return nil
	}
	url, ok := s.cluster.NodeURL(node)
	if !ok {
		return fmt.Errorf("%w: cursor %q was opened by node %d, which is not in the region", ErrCursorNotFound, id, node)
	}
	return &ElsewhereError{What: "cursor " + id, Node: node, URL: url}
}

// cursorPrefix starts the ids of the cursors this node opens in a region
// of several nodes ("n{node}-"), so that any node can tell where one
// lives; "" in a region of one.
func (s *Service) cursorPrefix() string {
	if !s.clustered() {
		return ""
	}
	return "n" + strconv.FormatUint(s.cluster.Self(), 10) + "-"
}

// cursorNode parses the node out of a cursor id made with cursorPrefix.
func cursorNode(id string) (uint64, bool) {
	rest, ok := strings.CutPrefix(id, "n")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || n == 0 {
		return 0, false
	}
	return n, true
}
