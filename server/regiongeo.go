package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/region/meta"
	"github.com/causeway/causeway/region/ship"
	"github.com/causeway/causeway/replicator/shell"
)

// Geo-replication in a region of several nodes. The region is the actor
// other regions see: its replication journals (one per region of the
// fabric) are units of the region, replicated by log shipping like
// streams, and together with every global stream (and, in a
// geo-replicated region, every collection's streams) they form one
// co-location group: the same replicas in the same order, moved together
// and led by one node. The replication shell runs on that node only
// (shell.Standby, activated here), over the journals it leads; the
// others answer global publishes by proxying to it. When the lead moves,
// the old shell stops (its journal appends and stream applies are fenced
// by the units' epochs) and the new leader starts one from the journals
// its replicas hold, with the applied watermark and the join mark the
// previous one kept in the region's key-value map.

// geoGroup is the co-location group of the region's geo-replication.
const geoGroup = "geo"

// geoStatePrefix keys the shell's records in the region's map.
const geoStatePrefix = "geo/"

// journalUnit is the unit holding the journal of ops from origin.
func journalUnit(origin string) region.UnitID { return region.UnitID("journal:" + origin) }

// geoPoll is how often the runner looks again without a change.
const geoPoll = 250 * time.Millisecond

// regionGeo runs the region's geo-replication on this node while it leads
// the co-location group.
type regionGeo struct {
	standby *shell.Standby
	regions []string
	// voters is how many voters the region was bootstrapped with (0 on
	// a node that joined): journals wait for that many active nodes, so
	// that a region starting node by node does not create them with a
	// factor of one.
	voters int
	log    *zap.Logger
	stop   chan struct{}
	done   chan struct{}
}

// newRegionGeo prepares the runner; start begins it once the node's log
// shipping runs.
func newRegionGeo(standby *shell.Standby, regions []string, voters int, log *zap.Logger) *regionGeo {
	return &regionGeo{standby: standby, regions: regions, voters: voters, log: log.Named("geo"),
		stop: make(chan struct{}), done: make(chan struct{})}
}

func (rg *regionGeo) start(g *meta.Group, m *ship.Manager) {
	go rg.run(g, m)
}

// close deactivates the shell here and stops the runner.
func (rg *regionGeo) close() {
	if rg == nil {
		return
	}
	select {
	case <-rg.stop:
	default:
		close(rg.stop)
	}
	<-rg.done
	if err := rg.standby.Deactivate(); err != nil {
		rg.log.Warn("stopping the region's replication", zap.Error(err))
	}
}

func (rg *regionGeo) run(g *meta.Group, m *ship.Manager) {
	defer close(rg.done)
	created := false
	var term uint64 // the group's term the running shell started at
	t := time.NewTicker(geoPoll)
	defer t.Stop()
	for {
		if !created {
			if err := rg.createJournals(g, m); err != nil {
				rg.log.Warn("creating the region's replication journals; retrying", zap.Error(err))
			} else {
				created = true
			}
		}
		term = rg.reconcile(g, m, term)
		select {
		case <-rg.stop:
			return
		case <-m.Changed():
		case <-g.Changed():
		case <-t.C:
		}
	}
}

// createJournals creates the journal of every region of the fabric in the
// co-location group (creating one that exists is a no-op).
func (rg *regionGeo) createJournals(g *meta.Group, m *ship.Manager) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := g.State(ctx)
	if err != nil {
		return err
	}
	missing := false
	for _, r := range rg.regions {
		missing = missing || st.Units[journalUnit(r)] == nil
	}
	if !missing {
		return nil
	}
	active := 0
	for _, n := range st.Nodes {
		if n.Status == region.NodeActive {
			active++
		}
	}
	if active < rg.voters {
		return fmt.Errorf("server: %d of the region's %d voters are active: the journals wait for them", active, rg.voters)
	}
	factor := region.DefaultFactor(active)
	for _, r := range rg.regions {
		if err := m.CreateUnitIn(ctx, journalUnit(r), factor, "", geoGroup); err != nil {
			return fmt.Errorf("server: create the journal of %s: %w", r, err)
		}
	}
	return nil
}

// reconcile activates the shell when this node leads the whole group and
// its journals hold only acknowledged records, and deactivates it when
// the group's leadership changed; it returns the term the running shell
// started at.
func (rg *regionGeo) reconcile(g *meta.Group, m *ship.Manager, term uint64) uint64 {
	st := g.Local()
	leader, _, ok := st.GroupLeader(geoGroup)
	lead := ok && leader == g.Self().Node
	journals := make(map[string]shell.Journal, len(rg.regions))
	committed := true
	// now fingerprints the journals' leadership: the sum of their epochs
	// only grows (journals are never deleted), so a journal led again,
	// even by this node, restarts the shell.
	var now uint64
	for _, r := range rg.regions {
		rep, u := m.Replica(journalUnit(r)), st.Units[journalUnit(r)]
		if rep == nil || u == nil {
			lead = false
			break
		}
		now += u.Epoch
		if leading, _ := rep.Leading(); !leading {
			lead = false
			break
		}
		if hw, _ := rep.HighWatermark(); hw < rep.Log().EndOffset() {
			committed = false // a new leader's tail, not yet on its followers
		}
		journals[r] = replicaJournal{rep}
	}
	running := rg.standby.Active() != nil
	if running && (!lead || now != term) {
		rg.log.Info("the region's replication moves off this node", zap.Bool("leading", lead), zap.Uint64("term", now))
		if err := rg.standby.Deactivate(); err != nil {
			rg.log.Warn("stopping the region's replication", zap.Error(err))
		}
		running = false
	}
	if running || !lead || !committed {
		return term
	}
	if _, err := rg.standby.Activate(journals, geoState{g}); err != nil {
		// The broker may not lead the global streams yet (it follows the
		// same changes), or the metadata group is slow: try again.
		rg.log.Warn("starting the region's replication on this node; retrying", zap.Error(err))
		return term
	}
	rg.log.Info("the region's replication runs on this node", zap.Uint64("term", now))
	return now
}

// replicaJournal is a journal unit's replica led by this node as a shell
// journal: appends are acknowledged once every in-sync replica holds
// them; reads see the leader's log.
type replicaJournal struct{ r *ship.Replica }

func (j replicaJournal) AppendAsync(recs []segment.Record, done func(first uint64, err error)) {
	j.r.AppendAsync(recs, done)
}

func (j replicaJournal) Read(from uint64, maxRecords, maxBytes int) ([]segment.Record, error) {
	return j.r.Log().Read(from, maxRecords, maxBytes)
}

func (j replicaJournal) StartOffset() uint64 { return j.r.Log().StartOffset() }
func (j replicaJournal) EndOffset() uint64   { return j.r.Log().EndOffset() }

// geoState keeps the shell's records in the region's key-value map, where
// the next node to run the region's replication reads them.
type geoState struct{ g *meta.Group }

func (s geoState) Load(ctx context.Context, name string) ([]byte, bool, error) {
	v, ok, err := s.g.Read(ctx, geoStatePrefix+name)
	if err != nil || !ok {
		return nil, false, err
	}
	return []byte(v), true, nil
}

func (s geoState) Save(ctx context.Context, name string, b []byte) error {
	if b == nil {
		err := s.g.Delete(ctx, geoStatePrefix+name)
		if errors.Is(err, region.ErrRefused) {
			return nil // not there
		}
		return err
	}
	return s.g.Put(ctx, geoStatePrefix+name, string(b))
}
