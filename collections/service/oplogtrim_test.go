package service

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections"
)

// smallSegmentBytes is the broker's smallest segment size: op logs of a
// few MiB then have several segments to trim.
const smallSegmentBytes = 1 << 20

// newSmallSegmentEnv is newEnv with small op-log segments; opts.Now and
// opts.SweepInterval are set by it.
func newSmallSegmentEnv(t *testing.T, opts Options) *env {
	e := &env{t: t, dir: t.TempDir(), clock: &fakeClock{t: time.Unix(1_700_000_000, 0)}}
	startSmall(e, opts)
	t.Cleanup(e.stop)
	return e
}

func startSmall(e *env, opts Options) {
	cfg := broker.Config{Region: "us", DataDir: e.dir, SegmentMaxBytes: smallSegmentBytes, Fsync: "never"}
	node, err := broker.Open(cfg, zaptest.NewLogger(e.t, zaptest.Level(zap.WarnLevel)))
	if err != nil {
		e.t.Fatal(err)
	}
	opts.Now, opts.SweepInterval = e.clock.Now, time.Hour
	svc, err := Open(node, opts)
	if err != nil {
		_ = node.Close()
		e.t.Fatal(err)
	}
	e.node, e.svc = node, svc
}

// settled waits until the change events of every write are published.
func settled(t *testing.T, svc *Service, ref Ref) *collection {
	t.Helper()
	c, err := svc.collection(ref)
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.pending.Wait()
	c.mu.Unlock()
	return c
}

// blobWrites overwrites keys k00..k{keys-1} in turn, n times in all, each
// with a value of about blobBytes.
func blobWrites(n, keys, blobBytes int) []Write {
	blob := strings.Repeat("x", blobBytes)
	ws := make([]Write, n)
	for i := range ws {
		ws[i] = Write{Kind: Insert, Overwrite: OverwriteReplace, Key: fmt.Sprintf("k%02d", i%keys),
			Doc: map[string]any{"blob": blob, "i": json.Number(fmt.Sprint(i))}}
	}
	return ws
}

// viewOf renders every document and its conflicts.
func viewOf(t *testing.T, svc *Service, ref Ref, keys []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range keys {
		b, _, err := svc.Document(ref, k)
		if err != nil {
			out[k] = err.Error()
			continue
		}
		cs, err := svc.Conflicts(ref, k)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = fmt.Sprintf("%s %v", b, cs)
	}
	return out
}

func sameView(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Fatalf("%s: %s = %.200s, want %.200s", what, k, got[k], w)
		}
	}
}

// TestOpLogTrimmed writes a few MiB of ops, trims the op log, restarts:
// old segments are gone, and documents, conflicts, revisions and the
// change feed are intact.
func TestOpLogTrimmed(t *testing.T) {
	e := newSmallSegmentEnv(t, Options{})
	if _, err := e.svc.CreateCollection(users.Tenant, users.Fabric, CollectionSpec{Name: "users"}); err != nil {
		t.Fatal(err)
	}
	ws := blobWrites(80, 10, 60<<10)
	for i := 0; i < len(ws); i += 8 {
		e.write(ws[i : i+8]...)
	}
	e.write(Write{Kind: Insert, Key: "counter", Doc: map[string]any{"n": json.Number("1")}})
	for range 5 {
		e.write(Write{Kind: Update, Key: "counter", Doc: map[string]any{"n": map[string]any{"$inc": json.Number("2")}}, MergeObjects: true})
	}
	e.write(Write{Kind: Delete, Key: "k03"})
	// A remote op concurrent with the counter's writes: a conflict.
	op := collections.Op{Collection: "users", Key: "counter", Kind: collections.KindSet, Path: []string{"s"}, Value: []byte(`"eu"`),
		Dot: collections.Dot{Region: "eu", Seq: 1}, HLC: 1}
	if err := e.svc.ApplyRemote(users.Tenant, users.Fabric, op); err != nil {
		t.Fatal(err)
	}
	e.write(Write{Kind: Update, Key: "counter", Doc: map[string]any{"s": "us"}, MergeObjects: true})
	keys := []string{"counter"}
	for i := range 10 {
		keys = append(keys, fmt.Sprintf("k%02d", i))
	}
	want := viewOf(t, e.svc, users, keys)
	if !strings.Contains(want["counter"], `"n":11`) || !strings.Contains(want["k03"], "not found") {
		t.Fatalf("view before trimming: %v", want["counter"])
	}
	c := settled(t, e.svc, users)
	before, err := e.svc.OpLog(users)
	if err != nil {
		t.Fatal(err)
	}
	if before.Start != 0 || before.End != 89 || before.Bytes < 4<<20 {
		t.Fatalf("op log before trimming: %+v", before)
	}
	changesEnd := c.chgStream.Source().EndOffset()

	n, err := e.svc.TrimOpLogs()
	if err != nil || n < 3 {
		t.Fatalf("TrimOpLogs = %d, %v; want at least 3 segments", n, err)
	}
	after, _ := e.svc.OpLog(users)
	if after.Start == 0 || after.End != before.End || after.Bytes >= before.Bytes-3*smallSegmentBytes {
		t.Fatalf("op log after trimming %+v, before %+v", after, before)
	}
	t.Logf("op log: %d bytes [%d, %d) before trimming, %d bytes [%d, %d) after", before.Bytes, before.Start, before.End, after.Bytes, after.Start, after.End)
	sameView(t, "after trimming", viewOf(t, e.svc, users, keys), want)
	if again, err := e.svc.TrimOpLogs(); err != nil || again != 0 {
		t.Fatalf("second TrimOpLogs = %d, %v", again, err)
	}

	e.stop()
	startSmall(e, Options{})
	sameView(t, "after restart", viewOf(t, e.svc, users, keys), want)
	if got, _ := e.svc.OpLog(users); got.Start != after.Start || got.End != after.End {
		t.Fatalf("op log after restart %+v, want %+v", got, after)
	}
	c = settled(t, e.svc, users)
	if end := c.chgStream.Source().EndOffset(); end != changesEnd {
		t.Fatalf("change feed has %d events after restart, want %d", end, changesEnd)
	}
	// The change feed goes on from now: a new write is its next event,
	// sequenced by its op-log offset, and continues the dots.
	res := e.write(Write{Kind: Update, Key: "counter", Doc: map[string]any{"n": map[string]any{"$inc": json.Number("1")}}, MergeObjects: true})
	c = settled(t, e.svc, users)
	recs, err := c.chgStream.Source().Read(changesEnd, 10, 1<<20)
	if err != nil || len(recs) != 1 {
		t.Fatalf("change feed after the new write: %d events, %v", len(recs), err)
	}
	var ch Change
	if err := json.Unmarshal(recs[0].Payload, &ch); err != nil || ch.Key != "counter" || ch.Rev != res[0].Rev || ch.Dot != "us:89" ||
		recs[0].SequenceID != int64(after.End) {
		t.Fatalf("change %+v (seq %d, err %v), want counter at rev %s, dot us:89, seq %d", ch, recs[0].SequenceID, err, res[0].Rev, after.End)
	}
	if d := e.doc("counter"); d["n"] != float64(12) {
		t.Fatalf("counter after restart and a new increment: %v", d)
	}
}

// pinSequencer is a LocalSequencer whose Stable is held at most at pin.
type pinSequencer struct {
	*LocalSequencer
	mu     sync.Mutex
	pin    collections.Vector
	pinned bool
}

func (p *pinSequencer) Stable(ref Ref) collections.Vector {
	v := p.LocalSequencer.Stable(ref)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pinned {
		return v.Meet(p.pin)
	}
	return v
}

func (p *pinSequencer) set(pinned bool, pin collections.Vector) {
	p.mu.Lock()
	p.pin, p.pinned = pin, pinned
	p.mu.Unlock()
}

// TestOpLogTrimWaitsForStabilityAndView: ops that are not causally stable,
// or not yet in the view's durable position, pin the log.
func TestOpLogTrimWaitsForStabilityAndView(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	seq := &pinSequencer{LocalSequencer: NewLocalSequencer("us", clock.Now)}
	seq.set(true, collections.Vector{{Region: "us", Seq: 10}})
	e := newSmallSegmentEnv(t, Options{Sequencer: seq})
	if _, err := e.svc.CreateCollection(users.Tenant, users.Fabric, CollectionSpec{Name: "users"}); err != nil {
		t.Fatal(err)
	}
	ws := blobWrites(80, 10, 60<<10)
	for i := 0; i < len(ws); i += 8 {
		e.write(ws[i : i+8]...)
	}
	c := settled(t, e.svc, users)
	info := c.info.Load()
	segs := c.opsStream.TrimmableBelow(1 << 40) // the active segment's base
	if segs < 40 {
		t.Fatalf("active segment starts at %d: too few segments", segs)
	}
	// Ops above us:10 (offset 9) are not stable: the first segment, which
	// holds more than 10 ops, stays.
	if n, err := e.svc.TrimOpLogs(); err != nil || n != 0 {
		t.Fatalf("TrimOpLogs with us:10 stable = %d, %v", n, err)
	}
	if c.trim.end != 10 {
		t.Fatalf("trimmable prefix %d, want 10 (us:1..us:10)", c.trim.end)
	}
	// Stable everywhere, but the view's durable position is held at 30.
	seq.set(false, nil)
	if err := e.svc.store.SetPosition(info.ID, 30); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.TrimOpLogs(); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.OpLog(users); got.Start > 30 || c.trim.end != 30 {
		t.Fatalf("op log %+v, trimmable %d, with the position at 30", got, c.trim.end)
	}
	if err := e.svc.store.SetPosition(info.ID, 80); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.TrimOpLogs(); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.OpLog(users); got.Start != segs || c.trim.end != 80 {
		t.Fatalf("op log %+v, trimmable %d, want it to start at the active segment %d", got, c.trim.end, segs)
	}
}

// TestOpLogTrimBudget: one pass reads at most the budget; the next goes on.
func TestOpLogTrimBudget(t *testing.T) {
	e := newSmallSegmentEnv(t, Options{})
	if _, err := e.svc.CreateCollection(users.Tenant, users.Fabric, CollectionSpec{Name: "users"}); err != nil {
		t.Fatal(err)
	}
	e.write(blobWrites(50, 5, 100)...)
	c := settled(t, e.svc, users)
	b := trimBudget{records: 20, bytes: 1 << 20}
	if _, err := c.trimOpLog(&b); err != nil || c.trim.end != 20 || !b.exhausted() {
		t.Fatalf("trim pass with 20 records of budget: end %d, budget %+v, %v", c.trim.end, b, err)
	}
	b = trimBudget{records: 100, bytes: 1 << 20}
	if _, err := c.trimOpLog(&b); err != nil || c.trim.end != 50 || b.records != 70 {
		t.Fatalf("second pass: end %d, budget %+v, %v", c.trim.end, b, err)
	}
}

// TestOpLogTrimSkipsEarlierCollection: records an earlier collection of the
// same name left in a surviving op-log stream do not pin trimming.
func TestOpLogTrimSkipsEarlierCollection(t *testing.T) {
	e := newSmallSegmentEnv(t, Options{})
	sn := naming.Stream{Persistent: true, Tenant: users.Tenant, Fabric: users.Fabric, Name: OpLogStream("users")}
	st, err := e.node.CreateStream(sn, broker.StreamInfo{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.AttachInternalProducer(opsProducer, -1)
	if err != nil {
		t.Fatal(err)
	}
	// An op of an earlier "users" whose dot the new collection never sees.
	old := collections.Op{Collection: "users", Key: "x", Kind: collections.KindInsert, Value: []byte(`{}`), Dot: collections.Dot{Region: "us", Seq: 1000}, HLC: 1}
	payload, err := old.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := p.Publish([]broker.Message{{Key: "x", Payload: payload, SequenceID: -1}}); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	p.Close()
	if _, err := e.svc.CreateCollection(users.Tenant, users.Fabric, CollectionSpec{Name: "users"}); err != nil {
		t.Fatal(err)
	}
	e.write(blobWrites(40, 5, 60<<10)...)
	settled(t, e.svc, users)
	if n, err := e.svc.TrimOpLogs(); err != nil || n == 0 {
		t.Fatalf("TrimOpLogs = %d, %v: the earlier collection's op pins the log", n, err)
	}
	if e.doc("x") != nil {
		t.Fatal("the earlier collection's document shows")
	}
}

// restartSmall restarts a fake region's node with small op-log segments.
func restartSmall(r *fakeRegion) {
	t := r.f.t
	r.stop()
	peers := map[string]string{}
	for _, p := range r.f.names {
		if p != r.name {
			peers[p] = "127.0.0.1:1"
		}
	}
	cfg := broker.Config{Region: r.name, DataDir: r.dir, Peers: peers, ReplAddr: "127.0.0.1:0",
		FabricSecret: "fake-fabric-secret-0123456789", Fsync: "never", SegmentMaxBytes: smallSegmentBytes}
	node, err := broker.Open(cfg, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)).Named(r.name))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := Open(node, Options{Now: r.clock.Now, SweepInterval: time.Hour})
	if err != nil {
		_ = node.Close()
		t.Fatal(err)
	}
	r.node, r.svc = node, svc
	svc.AttachReplication(r)
}

// TestGeoOpLogTrimWaitsForEveryRegion: a region cut off from the others
// pins every region's op log; once it has the ops (and says so), the logs
// are trimmed, and every region still holds the same documents.
func TestGeoOpLogTrimWaitsForEveryRegion(t *testing.T) {
	f := newFakeFabric(t, 7, "ap", "eu", "us")
	for _, n := range f.names {
		restartSmall(f.regions[n])
	}
	us := f.regions["us"]
	ref := sysRef("users")
	if _, err := us.svc.CreateCollection(ref.Tenant, ref.Fabric, CollectionSpec{Name: "users"}); err != nil {
		t.Fatal(err)
	}
	f.settle()
	f.partition(true, []string{"ap"}, []string{"eu", "us"})
	ws := blobWrites(64, 8, 60<<10)
	for i := 0; i < len(ws); i += 8 {
		us.write(ref, ws[i:i+8]...)
	}
	f.settle()
	f.regions["eu"].write(ref, Write{Kind: Update, Key: "k01", Doc: map[string]any{"eu": true}, MergeObjects: true})
	f.settle()
	for _, n := range []string{"eu", "us"} {
		r := f.regions[n]
		settled(t, r.svc, ref)
		if k, err := r.svc.TrimOpLogs(); err != nil || k != 0 {
			t.Fatalf("%s trims %d segments (%v) while ap lacks the ops", n, k, err)
		}
		if got, _ := r.svc.OpLog(ref); got.Start != 0 || got.End < 64 {
			t.Fatalf("%s op log %+v while ap lacks the ops", n, got)
		}
	}
	f.heal()
	f.settle()
	var want map[string]string
	keys := []string{"k00", "k01", "k02", "k03", "k04", "k05", "k06", "k07"}
	for _, n := range f.names {
		r := f.regions[n]
		settled(t, r.svc, ref)
		before, _ := r.svc.OpLog(ref)
		k, err := r.svc.TrimOpLogs()
		if err != nil || k < 2 {
			t.Fatalf("%s trims %d segments (%v) once every region has the ops", n, k, err)
		}
		after, _ := r.svc.OpLog(ref)
		t.Logf("%s: op log %d bytes [%d, %d) before trimming, %d bytes [%d, %d) after", n, before.Bytes, before.Start, before.End, after.Bytes, after.Start, after.End)
		got := viewOf(t, r.svc, ref, keys)
		if want == nil {
			want = got
		}
		sameView(t, n, got, want)
	}
	if !strings.Contains(want["k01"], `"eu":true`) {
		t.Fatalf("k01 = %.200s", want["k01"])
	}
}

// BenchmarkOpLogTrim measures the op log of 100,000 updates of 1,000
// documents (1 MiB segments) before and after one trimming pass, and the
// time of that pass. Run with -benchtime=1x.
func BenchmarkOpLogTrim(b *testing.B) {
	const docs, updates = 1000, 100_000
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		node, err := broker.Open(broker.Config{Region: "us", DataDir: dir, SegmentMaxBytes: smallSegmentBytes, Fsync: "never"}, nil)
		if err != nil {
			b.Fatal(err)
		}
		svc, err := Open(node, Options{SweepInterval: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.CreateCollection(users.Tenant, users.Fabric, CollectionSpec{Name: "users"}); err != nil {
			b.Fatal(err)
		}
		ws := make([]Write, docs)
		for i := range ws {
			ws[i] = Write{Kind: Insert, Key: fmt.Sprintf("doc%04d", i), Doc: map[string]any{"n": json.Number("0"), "name": fmt.Sprintf("document %d", i)}}
		}
		if _, err := svc.Write(users, ws); err != nil {
			b.Fatal(err)
		}
		for u := 0; u < updates; u += docs {
			for i := range ws {
				ws[i] = Write{Kind: Update, Key: fmt.Sprintf("doc%04d", i), MergeObjects: true,
					Doc: map[string]any{"n": map[string]any{"$inc": json.Number("1")}}}
			}
			if _, err := svc.Write(users, ws); err != nil {
				b.Fatal(err)
			}
		}
		c, err := svc.collection(users)
		if err != nil {
			b.Fatal(err)
		}
		c.mu.Lock()
		c.pending.Wait()
		c.mu.Unlock()
		before, _ := svc.OpLog(users)
		b.StartTimer()
		if _, err := svc.TrimOpLogs(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		after, _ := svc.OpLog(users)
		b.ReportMetric(float64(before.Bytes), "log-bytes-before")
		b.ReportMetric(float64(after.Bytes), "log-bytes-after")
		b.ReportMetric(float64(after.Start), "trimmed-ops")
		if err := svc.Close(); err != nil {
			b.Fatal(err)
		}
		if err := node.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
