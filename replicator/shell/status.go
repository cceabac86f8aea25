package shell

import (
	"sync"
	"time"

	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/transport"
)

// Status is a node's replication state, as plain values.
type Status struct {
	Region  string   `json:"region"`
	Regions []string `json:"regions"`
	// Domain names the causal domain of a pinned fabrics' shell (empty:
	// every region's).
	Domain string `json:"domain,omitempty"`
	// Delivered is how many ops of each origin this region delivered;
	// Stable how many are known delivered everywhere.
	Delivered replicator.Vector `json:"delivered"`
	Stable    replicator.Vector `json:"stable"`
	// Applied is the applied watermark (every op at or below it is in its
	// stream).
	Applied replicator.Vector `json:"applied"`
	Peers   []PeerStatus      `json:"peers"`
	// Evicted lists the regions an operator evicted.
	Evicted []string           `json:"evicted,omitempty"`
	Engine  replicator.Metrics `json:"engine"`
	Shell   ShellMetrics       `json:"shell"`
	// Failed is the error replication stopped on ("" when healthy).
	Failed string `json:"failed,omitempty"`
	// Joined is false while the region joins the fabric (Shell.Joined).
	Joined bool `json:"joined"`
}

// PeerStatus is the replication lag of one peer as seen from this region,
// and the link to it.
type PeerStatus struct {
	Peer string `json:"peer"`
	// LagOps is how many of this region's ops the peer has not
	// acknowledged; LagAllOps the same over every origin this region
	// delivered. LagMillis is how long ago this region created the oldest
	// of its ops the peer lacks (0 when caught up); LagKnown is false when
	// no time is known (after a restart, until new ops are published).
	LagOps     uint64               `json:"lagOps"`
	LagAllOps  uint64               `json:"lagAllOps"`
	LagMillis  float64              `json:"lagMillis"`
	LagKnown   bool                 `json:"lagKnown"`
	Advertised replicator.Vector    `json:"advertised"`
	Link       transport.LinkStatus `json:"link"`
}

// ShellMetrics are the shell's counters.
type ShellMetrics struct {
	Published        uint64 `json:"published"`
	BatchesIn        uint64 `json:"batchesIn"`
	AcksIn           uint64 `json:"acksIn"`
	DuplicateBatches uint64 `json:"duplicateBatches"`
	MissingBase      uint64 `json:"missingBase"`
	Rejected         uint64 `json:"rejected"`
	Applied          uint64 `json:"applied"`
	Skipped          uint64 `json:"skipped"`
	ApplyErrors      uint64 `json:"applyErrors"`
	CorruptBodies    uint64 `json:"corruptBodies"`
	UnknownKinds     uint64 `json:"unknownKinds"`
	Rejournaled      uint64 `json:"rejournaled"`
	SendErrors       uint64 `json:"sendErrors"`
	SendDrops        uint64 `json:"sendDrops"`
	RestoredOps      uint64 `json:"restoredOps"`
}

func (c *counters) snapshot() ShellMetrics {
	return ShellMetrics{
		Published: c.published.Load(), BatchesIn: c.batchesIn.Load(), AcksIn: c.acksIn.Load(),
		DuplicateBatches: c.duplicateBatches.Load(), MissingBase: c.missingBase.Load(), Rejected: c.rejected.Load(),
		Applied: c.applied.Load(), Skipped: c.skipped.Load(), ApplyErrors: c.applyErrors.Load(),
		CorruptBodies: c.corruptBodies.Load(), UnknownKinds: c.unknownKinds.Load(), Rejournaled: c.rejournaled.Load(),
		SendErrors: c.sendErrors.Load(), SendDrops: c.sendDrops.Load(), RestoredOps: c.restoredOps.Load(),
	}
}

// Status returns the replication state (ErrClosed after Close).
func (s *Shell) Status() (Status, error) {
	st := Status{Region: s.self, Regions: s.Regions(), Domain: s.domain}
	links := make(map[string]transport.LinkStatus)
	for _, l := range s.transport.Links() {
		links[l.Peer] = l
	}
	var mu sync.Mutex
	var fromLoop Status
	err := s.control(func(now time.Time) {
		mu.Lock()
		defer mu.Unlock()
		st := &fromLoop
		e := s.engine
		st.Delivered = e.Delivered()
		st.Stable = e.Stable()
		st.Engine = e.Metrics()
		for _, l := range e.Lag(now) {
			adv, _ := e.Advertised(l.Peer)
			st.Peers = append(st.Peers, PeerStatus{
				Peer: l.Peer, LagOps: l.OwnOps, LagAllOps: l.AllOps, LagKnown: l.BehindKnown,
				LagMillis: float64(l.Behind) / float64(time.Millisecond), Advertised: adv, Link: links[l.Peer],
			})
		}
	})
	if err != nil {
		return Status{}, err
	}
	mu.Lock()
	st.Delivered, st.Stable, st.Engine, st.Peers = fromLoop.Delivered, fromLoop.Stable, fromLoop.Engine, fromLoop.Peers
	mu.Unlock()
	st.Applied, _ = s.progress.peek()
	st.Shell = s.m.snapshot()
	st.Evicted = s.Evicted()
	st.Joined = s.Joined()
	if f := s.failure(); f != nil {
		st.Failed = f.Error()
	}
	return st, nil
}
