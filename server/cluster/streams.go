package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/region/cursorstore"
	"github.com/causeway/causeway/region/ship"
	"github.com/causeway/causeway/subscription"
)

// streamPrefix starts the unit id of every stream.
const streamPrefix = "stream:"

// UnitOf returns a persistent stream's unit.
func UnitOf(name naming.Stream) region.UnitID {
	return region.UnitID(streamPrefix + name.Tenant + "/" + name.Fabric + "/" + name.Name)
}

// StreamOf returns the stream a unit holds, ok=false for other units.
func StreamOf(id region.UnitID) (naming.Stream, bool) {
	rest, ok := strings.CutPrefix(string(id), streamPrefix)
	if !ok {
		return naming.Stream{}, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return naming.Stream{}, false
	}
	name := naming.Stream{Persistent: true, Tenant: parts[0], Fabric: parts[1], Name: parts[2]}
	if name.Validate() != nil {
		return naming.Stream{}, false
	}
	return name, true
}

// Metadata is what the streams need of the region's metadata group
// (*meta.Group).
type Metadata interface {
	ship.Metadata
	cursorstore.Metadata
	// Scan reads every key of the region's map starting with a prefix.
	Scan(ctx context.Context, prefix string) (map[string]string, error)
}

// Streams implements broker.Cluster. It is created before the region's
// group runs (the broker opens first) and serves once Start gave it the
// group and the node's log shipping.
type Streams struct {
	running atomic.Pointer[running]
	stopped atomic.Bool
	started chan struct{}
	// DefaultFactor is the replication factor of a stream created without
	// one, given the region's active nodes (region.DefaultFactor).
	DefaultFactor func(activeNodes int) int
	// GlobalGroup, when set (a geo-replicated region), is the co-location
	// group of the region's replication journals: global streams are
	// created in it, so the node running the region's replication leads
	// them and applies what other regions send.
	GlobalGroup string

	infoMu sync.Mutex
	infos  map[string]broker.StreamInfo
}

// info decodes a unit's description, once per distinct text (every
// change of the region lists every stream again).
func (s *Streams) info(text string) (broker.StreamInfo, error) {
	s.infoMu.Lock()
	defer s.infoMu.Unlock()
	if info, ok := s.infos[text]; ok {
		return info, nil
	}
	info, err := broker.UnmarshalRegionInfo(text)
	if err != nil {
		return info, err
	}
	if s.infos == nil || len(s.infos) > maxCachedInfos {
		s.infos = map[string]broker.StreamInfo{}
	}
	s.infos[text] = info
	return info, nil
}

// maxCachedInfos bounds the decoded descriptions kept (it is emptied past
// it; the streams of a region rarely change).
const maxCachedInfos = 1 << 16

type running struct {
	meta    Metadata
	ship    *ship.Manager
	cursors *cursorstore.Store
}

var _ broker.Cluster = (*Streams)(nil)

// New returns streams that serve once Start is called.
func New() *Streams {
	return &Streams{started: make(chan struct{}), DefaultFactor: region.DefaultFactor}
}

// Start gives the streams the running group and log shipping.
func (s *Streams) Start(meta Metadata, m *ship.Manager) {
	if s.running.Swap(&running{meta: meta, ship: m, cursors: cursorstore.New(meta)}) == nil {
		close(s.started)
	}
}

// Stop detaches them (the broker sees no stream led here any more).
func (s *Streams) Stop() {
	s.stopped.Store(true)
	s.running.Store(nil)
}

var errNotStarted = errors.New("cluster: this node is not in its region's metadata group yet; try again")

// Streams implements broker.Cluster.
func (s *Streams) Streams() (map[naming.Stream]broker.ClusterStream, <-chan struct{}) {
	rt := s.running.Load()
	switch {
	case rt == nil && s.stopped.Load():
		// Stopping: nothing more will change (a nil channel never fires).
		return nil, nil
	case rt == nil:
		return nil, s.started
	}
	// One channel for both: nodes or units changed (not every heartbeat
	// or cursor save, when the group tells them apart), or a replica here
	// started or stopped leading.
	changed := make(chan struct{})
	metaCh := rt.meta.Changed()
	if m, ok := rt.meta.(interface{ MembersChanged() <-chan struct{} }); ok {
		metaCh = m.MembersChanged()
	}
	shipCh := rt.ship.Changed()
	go func() {
		select {
		case <-metaCh:
		case <-shipCh:
		}
		close(changed)
	}()
	st := rt.meta.Local()
	self := rt.meta.Self().Node
	out := make(map[naming.Stream]broker.ClusterStream, len(st.Units))
	for id, u := range st.Units {
		name, ok := StreamOf(id)
		if !ok {
			continue
		}
		info, err := s.info(u.Info)
		if err != nil {
			continue // not written by a broker: not a stream of ours
		}
		cs := broker.ClusterStream{Info: info}
		if n := st.Nodes[u.Leader]; n != nil && u.Leader != self {
			cs.Leader = broker.ClusterNode{ID: uint64(n.ID), HTTP: n.Addrs.HTTP, Kafka: n.Addrs.Kafka}
		}
		if u.Leader == self {
			// Led here once the replica leads at the unit's epoch (after
			// a linearizable read); until then no node serves it.
			if rep := rt.ship.Replica(id); rep != nil {
				if leading, epoch := rep.Leading(); leading && epoch == u.Epoch {
					cs.Leader = broker.ClusterNode{ID: uint64(self), HTTP: st.Nodes[self].Addrs.HTTP, Kafka: st.Nodes[self].Addrs.Kafka}
					cs.Log = replicaLog{rep, epoch}
				}
			}
		}
		out[name] = cs
	}
	return out, changed
}

// CreateStream implements broker.Cluster: the stream's unit, placed on the
// region's active nodes.
func (s *Streams) CreateStream(ctx context.Context, name naming.Stream, info broker.StreamInfo) error {
	rt := s.running.Load()
	if rt == nil {
		return errNotStarted
	}
	desc, err := broker.MarshalRegionInfo(info)
	if err != nil {
		return err
	}
	group := ""
	if info.Global {
		group = s.GlobalGroup
	}
	factor := info.Replicas
	if factor == 0 || group != "" {
		st, err := rt.meta.State(ctx)
		if err != nil {
			return err
		}
		active := 0
		for _, n := range st.Nodes {
			if n.Status == region.NodeActive {
				active++
			}
		}
		if factor == 0 {
			factor = s.DefaultFactor(active)
		}
		if ids := st.GroupUnits(group); len(ids) > 0 {
			factor = st.Units[ids[0]].Factor // a group's units share their replicas
		}
	}
	return rt.ship.CreateUnitIn(ctx, UnitOf(name), factor, desc, group)
}

// DeleteStream implements broker.Cluster.
func (s *Streams) DeleteStream(ctx context.Context, name naming.Stream) error {
	rt := s.running.Load()
	if rt == nil {
		return errNotStarted
	}
	return rt.meta.Propose(ctx, region.Command{Kind: region.KindDeleteUnit, Unit: UnitOf(name)})
}

// Cursors implements broker.Cluster: subscriptions keep their cursors in
// the region's metadata (region/cursorstore), where the stream's next
// leader reads them.
func (s *Streams) Cursors() subscription.Store { return cursors{s} }

// cursors is the region's cursor store once the group runs.
type cursors struct{ s *Streams }

func (c cursors) store() (*cursorstore.Store, error) {
	rt := c.s.running.Load()
	if rt == nil {
		return nil, errNotStarted
	}
	return rt.cursors, nil
}

func (c cursors) Load(key string) (subscription.CursorState, bool, error) {
	st, err := c.store()
	if err != nil {
		return subscription.CursorState{}, false, err
	}
	return st.Load(key)
}

func (c cursors) Save(key string, cs subscription.CursorState) error {
	st, err := c.store()
	if err != nil {
		return err
	}
	return st.Save(key, cs)
}

func (c cursors) Delete(key string) error {
	st, err := c.store()
	if err != nil {
		return err
	}
	return st.Delete(key)
}

// replicaLog is a leading replica at one epoch: a new epoch is a new
// value, so the broker takes the lead afresh (the log may have been cut
// while another node led).
type replicaLog struct {
	r     *ship.Replica
	epoch uint64
}

func (l replicaLog) Log() *segment.Log              { return l.r.Log() }
func (l replicaLog) Committed() subscription.Source { return l.r.Committed() }
func (l replicaLog) AppendAsync(recs []segment.Record, done func(uint64, error)) {
	l.r.AppendAsync(recs, func(first uint64, err error) {
		if errors.Is(err, ship.ErrNotLeader) {
			err = fmt.Errorf("%w (%v)", broker.ErrLeaderMoved, err)
		}
		done(first, err)
	})
}
