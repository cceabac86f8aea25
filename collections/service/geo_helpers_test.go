package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/shell"
)

// fakeFabric is an in-process causal broadcast standing in for the
// replication shell: each region's published payloads form its log (dense
// seqs, with the region's delivered vector as dependencies), applied at
// once in the publishing region, and delivered to the others only when the
// test pumps them, in a causally valid order picked by a seeded PRNG, over
// links the test cuts and heals.
type fakeFabric struct {
	t       testing.TB
	rng     *rand.Rand
	names   []string
	regions map[string]*fakeRegion

	mu        sync.Mutex
	down      map[[2]string]bool
	published int
	changed   chan struct{}
}

type fakeRegion struct {
	f     *fakeFabric
	name  string
	dir   string
	clock *fakeClock
	node  *broker.Node
	svc   *Service

	applyMu   sync.Mutex // the shell's completer: one apply at a time
	log       []fakeEntry
	delivered map[string]uint64 // under f.mu
}

type fakeEntry struct {
	seq     uint64
	deps    map[string]uint64
	payload []byte
}

func newFakeFabric(t testing.TB, seed uint64, names ...string) *fakeFabric {
	f := &fakeFabric{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), names: names,
		regions: map[string]*fakeRegion{}, down: map[[2]string]bool{}, changed: make(chan struct{}, 1)}
	for i, n := range names {
		r := &fakeRegion{f: f, name: n, dir: t.TempDir(), delivered: map[string]uint64{},
			clock: &fakeClock{t: time.Unix(1_700_000_000, 0).Add(time.Duration(i) * time.Millisecond)}}
		f.regions[n] = r
		r.start()
	}
	t.Cleanup(func() {
		for _, n := range names {
			f.regions[n].stop()
		}
	})
	return f
}

func (r *fakeRegion) start() {
	r.node, r.svc = openGeoNode(r.f.t, r.name, r.f.names, r.dir, r.clock)
	r.svc.AttachReplication(r)
}

// openGeoNode opens a node of region in a fabric of regions (its peers'
// addresses unused: a test attaches its own Replication) and its service
// on dir, reading time from clock. The caller closes both.
func openGeoNode(t testing.TB, region string, regions []string, dir string, clock *fakeClock) (*broker.Node, *Service) {
	t.Helper()
	peers := map[string]string{}
	for _, p := range regions {
		if p != region {
			peers[p] = "127.0.0.1:1"
		}
	}
	cfg := broker.Config{Region: region, DataDir: dir, Peers: peers, ReplAddr: "127.0.0.1:0",
		FabricSecret: "fake-fabric-secret-0123456789", Fsync: "never"}
	node, err := broker.Open(cfg, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)).Named(region))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := Open(node, Options{Now: clock.Now, SweepInterval: time.Hour})
	if err != nil {
		_ = node.Close()
		t.Fatal(err)
	}
	return node, svc
}

func (r *fakeRegion) stop() {
	if r.svc == nil {
		return
	}
	if err := r.svc.Close(); err != nil {
		r.f.t.Error(err)
	}
	if err := r.node.Close(); err != nil {
		r.f.t.Error(err)
	}
	r.svc, r.node = nil, nil
}

// Joined implements Replication: fake regions never start wiped.
func (r *fakeRegion) Joined() bool { return true }

// PublishOp implements Replication: the op joins the region's log and is
// applied here before done.
func (r *fakeRegion) PublishOp(kind shell.Kind, payload []byte, done func(replicator.Dot, error)) {
	if kind != ReplicationKind {
		done(replicator.Dot{}, shell.ErrUnknownKind)
		return
	}
	r.applyMu.Lock()
	f := r.f
	f.mu.Lock()
	seq := uint64(len(r.log)) + 1
	r.log = append(r.log, fakeEntry{seq: seq, deps: maps.Clone(r.delivered), payload: slices.Clone(payload)})
	r.delivered[r.name] = seq
	f.published++
	f.mu.Unlock()
	err := r.svc.ApplyReplicated(r.name, seq, payload)
	r.applyMu.Unlock()
	f.poke()
	done(replicator.Dot{Origin: r.name, Seq: seq}, err)
}

// Status implements Replication.
func (r *fakeRegion) Status() (shell.Status, error) {
	return shell.Status{Region: r.name, Regions: slices.Clone(r.f.names)}, nil
}

func (f *fakeFabric) poke() {
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

// cut cuts (down) or heals the links between every pair of the regions.
func (f *fakeFabric) partition(down bool, groups ...[]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, g := range groups {
		for _, h := range groups[i+1:] {
			for _, a := range g {
				for _, b := range h {
					f.down[[2]string{a, b}] = down
					f.down[[2]string{b, a}] = down
				}
			}
		}
	}
}

func (f *fakeFabric) heal() {
	f.mu.Lock()
	clear(f.down)
	f.mu.Unlock()
}

// deliverable lists (origin, to) pairs whose next op can be delivered.
func (f *fakeFabric) deliverable() [][2]string {
	var out [][2]string
	for _, to := range f.names {
		rt := f.regions[to]
		for _, o := range f.names {
			if o == to || f.down[[2]string{o, to}] {
				continue
			}
			ro := f.regions[o]
			next := rt.delivered[o] + 1
			if next > uint64(len(ro.log)) {
				continue
			}
			ok := true
			for d, s := range ro.log[next-1].deps {
				if d != o && rt.delivered[d] < s {
					ok = false
					break
				}
			}
			if ok {
				out = append(out, [2]string{o, to})
			}
		}
	}
	return out
}

// deliverAll delivers everything deliverable, in a random causal order.
func (f *fakeFabric) deliverAll() int {
	n := 0
	for {
		f.mu.Lock()
		ds := f.deliverable()
		if len(ds) == 0 {
			f.mu.Unlock()
			return n
		}
		d := ds[f.rng.IntN(len(ds))]
		ro, rt := f.regions[d[0]], f.regions[d[1]]
		f.mu.Unlock()
		rt.applyMu.Lock()
		f.mu.Lock()
		seq := rt.delivered[d[0]] + 1
		if seq > uint64(len(ro.log)) || f.down[d] {
			f.mu.Unlock()
			rt.applyMu.Unlock()
			continue
		}
		e := ro.log[seq-1]
		rt.delivered[d[0]] = seq
		f.mu.Unlock()
		if err := rt.svc.ApplyReplicated(d[0], seq, e.payload); err != nil {
			f.t.Errorf("%s applies %s:%d: %v", d[1], d[0], seq, err)
		}
		rt.applyMu.Unlock()
		n++
	}
}

// shipped reports whether every collection of every region shipped its
// committed ops.
func (f *fakeFabric) shipped() bool {
	for _, r := range f.regions {
		r.svc.mu.RLock()
		for _, c := range r.svc.cols {
			if c.ship.pos.Load() < c.ship.limit.Load() {
				r.svc.mu.RUnlock()
				return false
			}
		}
		r.svc.mu.RUnlock()
	}
	return true
}

// settle delivers until nothing moves: every op shipped and delivered
// where the links allow, and no ack published for a while.
func (f *fakeFabric) settle() {
	f.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		f.deliverAll()
		if !f.shipped() {
			select {
			case <-f.changed:
			case <-time.After(5 * time.Millisecond):
			}
			continue
		}
		f.mu.Lock()
		before := f.published
		f.mu.Unlock()
		select {
		case <-f.changed:
			continue
		case <-time.After(3 * ackInterval):
		}
		f.mu.Lock()
		quiet := f.published == before && len(f.deliverable()) == 0
		f.mu.Unlock()
		if quiet && f.shipped() {
			return
		}
	}
	f.t.Fatal("fabric did not settle")
}

var sysRef = func(name string) Ref {
	return Ref{Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric, Collection: name}
}

// docJSON returns a document as a map (nil when absent).
func (r *fakeRegion) docJSON(ref Ref, key string) map[string]any {
	r.f.t.Helper()
	b, _, err := r.svc.Document(ref, key)
	if errors.Is(err, ErrDocumentNotFound) {
		return nil
	}
	if err != nil {
		r.f.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		r.f.t.Fatal(err)
	}
	return m
}

func (r *fakeRegion) write(ref Ref, ws ...Write) []Result {
	r.f.t.Helper()
	res, err := r.svc.Write(ref, ws)
	if err != nil {
		r.f.t.Fatal(err)
	}
	for i, x := range res {
		if x.Err != nil {
			r.f.t.Fatalf("%s: write %d: %v", r.name, i, x.Err)
		}
	}
	return res
}

func conflictsString(r *fakeRegion, ref Ref, key string) string {
	cs, err := r.svc.Conflicts(ref, key)
	if err != nil {
		return "error: " + err.Error()
	}
	out := ""
	for _, c := range cs {
		out += fmt.Sprintf("%v=%s@%s;", c.Path, c.Value, c.Dot.Region)
	}
	return out
}
