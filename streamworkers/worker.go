package streamworkers

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/streamworkers/engine"
)

// worker runs one definition on this node: a goroutine that reads its
// inputs, feeds the engine, commits and sends (package doc).
type worker struct {
	r     *Runner
	id    workerID
	def   Definition
	log   *zap.Logger
	stats *workerStats

	plan    *engine.Plan
	eng     *engine.Worker
	cp      checkpoint
	pending []pendingRow
	// handed is how many of the pending rows (from the first) are handed
	// out; out follows them until they are stored.
	handed int
	out    *outbox
	sink   *sink
	// lastAdvance is when the engine was last told the time.
	lastAdvance time.Time
	// lastLogged is the last failure logged.
	lastLogged string

	stop chan struct{}
	done chan struct{}
}

// Bounds of one step (a commit).
const (
	// stateToInput: a step consumes at least 1/stateToInput of the
	// engine's state size in payload bytes before it commits (when there
	// is that much to read), so a large state is not written for a few
	// messages.
	stateToInput   = 4
	maxStepTime    = 250 * time.Millisecond
	maxRowsPerStep = 100_000
)

// errCrashed ends a worker stopped dead by a test's crash point.
var errCrashed = errors.New("streamworkers: crashed (test)")

func (r *Runner) newWorker(id workerID, def Definition) *worker {
	w := &worker{
		r: r, id: id, def: def, log: r.log.With(zap.Stringer("worker", id)), stats: &workerStats{status: "starting"},
		stop: make(chan struct{}), done: make(chan struct{}), out: newOutbox(),
	}
	w.stats.version.Store(def.Version)
	w.sink = &sink{node: r.node, cols: r.cols, id: id, producer: producerName(r.region, def), log: w.log, producers: map[string]*broker.Producer{}}
	return w
}

// run is the worker's goroutine.
func (w *worker) run() {
	defer close(w.done)
	defer w.sink.close()
	for !w.stopped() {
		if w.eng == nil {
			if err := w.open(); err != nil {
				w.fail("cannot start", err)
				continue
			}
		}
		if err := w.step(); err != nil {
			if errors.Is(err, errCrashed) {
				// As a process that died: what it handed to the broker
				// lands (or not) before anything starts again, and
				// nothing of it is recorded.
				w.out.waitAll(nil, haltWait)
				return
			}
			w.fail("retrying", err)
		}
	}
	// Stopping: let the rows in flight land and forget them (else they
	// are sent again after the restart, and dropped as duplicates).
	if w.out.waitAll(nil, haltWait) {
		_ = w.collect()
	}
}

func (w *worker) stopped() bool {
	select {
	case <-w.stop:
		return true
	default:
		return false
	}
}

// fail records err and pauses before the next attempt. The same error
// again is not logged again (a bad definition retries every second).
func (w *worker) fail(status string, err error) {
	w.stats.setStatus(status, err)
	if msg := status + ": " + err.Error(); msg != w.lastLogged {
		w.lastLogged = msg
		w.log.Warn("stream worker: "+status, zap.Error(err))
	}
	t := time.NewTimer(w.r.opts.RetryInterval)
	defer t.Stop()
	select {
	case <-w.stop:
	case <-t.C:
	}
}

// open compiles the definition and restores the checkpoint (or starts
// one): the engine state when it belongs to this version, the positions
// and the rows not sent yet in any case.
func (w *worker) open() error {
	// Rows in flight from before (a failed commit) land first: the
	// pending rows are read again from the checkpoint.
	if !w.out.waitAll(w.stop, time.Hour) {
		return errors.New("streamworkers: stopping")
	}
	w.out.reset()
	w.handed = 0
	plan, err := engine.Compile(w.def.Query, w.r.catalog(w.id.Tenant, w.id.Fabric))
	if err != nil {
		return fmt.Errorf("streamworkers: %s: compiling version %d: %w", w.id, w.def.Version, err)
	}
	if plan.Output.Kind == engine.OutputCollection && plan.Output.Name != "" {
		// The output collection is made on first use, as a stream is.
		if err := w.r.defs.ensureCollection(w.id.Tenant, w.id.Fabric, plan.Output.Name); err != nil {
			return err
		}
	}
	cp, state, rows, found, err := w.r.cps.load(w.id)
	if err != nil {
		return err
	}
	if found && cp.CreatedAt != w.def.CreatedAt { // a predecessor of the same name
		if err := w.r.cps.drop(w.id); err != nil {
			return err
		}
		cp, state, rows, found = checkpoint{}, nil, nil, false
	}
	if !found {
		cp = checkpoint{CreatedAt: w.def.CreatedAt, NextSeq: 1}
	}
	if cp.Version != w.def.Version {
		state = nil // an update: the new query starts with an empty state where the old one stopped reading
	}
	lim := w.r.opts.effective(w.def.Limits)
	eng, err := plan.NewWorker(state, lookup{cols: w.r.cols, tenant: w.id.Tenant, fabric: w.id.Fabric},
		engine.Limits{MaxStateBytes: lim.MaxStateBytes, MaxWindows: lim.MaxWindows})
	if err != nil {
		return fmt.Errorf("streamworkers: %s: restoring the engine: %w", w.id, err)
	}
	positions := make(map[string]uint64, len(plan.Inputs))
	fresh := false
	for _, in := range plan.Inputs {
		pos, ok := cp.Positions[in]
		if !ok {
			if pos, err = w.startPosition(in); err != nil {
				return err
			}
			fresh = true
		}
		positions[in] = pos
	}
	cp.Positions, cp.Version = positions, w.def.Version
	if fresh || !found || state == nil {
		// The starting point is durable before anything is read: a restart
		// begins where this run began ("latest" does not move).
		snap, err := eng.Snapshot()
		if err != nil {
			return fmt.Errorf("streamworkers: %s: engine snapshot: %w", w.id, err)
		}
		if err := w.r.cps.commit(w.id, cp, snap, nil); err != nil {
			return err
		}
	}
	w.plan, w.eng, w.cp, w.pending = plan, eng, cp, rows
	w.stats.in.Store(cp.In)
	w.stats.out.Store(cp.Out)
	w.stats.errs.Store(cp.Errors)
	w.stats.pending.Store(int64(len(rows)))
	w.stats.stateBytes.Store(eng.StateBytes())
	w.stats.setPositions(positions)
	w.lastAdvance = w.r.opts.Now()
	if len(rows) > 0 {
		w.log.Info("stream worker resumes with rows not sent yet", zap.Int("rows", len(rows)), zap.Int64("fromSeq", rows[0].Seq))
	}
	return nil
}

// startPosition is where a worker without a position starts reading in.
func (w *worker) startPosition(in string) (uint64, error) {
	st, err := w.r.node.Stream(w.inputName(in))
	if err != nil {
		return 0, fmt.Errorf("streamworkers: %s: input stream %s: %w", w.id, in, err)
	}
	src := st.Source()
	if w.def.Start == "latest" {
		return src.EndOffset(), nil
	}
	return src.StartOffset(), nil
}

func (w *worker) inputName(in string) naming.Stream {
	return naming.Stream{Persistent: true, Tenant: w.id.Tenant, Fabric: w.id.Fabric, Name: in}
}

// step sends what is pending, then consumes one batch (or waits for one).
func (w *worker) step() error {
	if err := w.flush(); err != nil {
		return err
	}
	if len(w.pending) >= maxPendingRows {
		w.out.waitHead(w.stop, time.Second) // the broker is behind: wait for it
		return nil
	}
	// A step reads batches until what it consumed is large next to the
	// engine's state (the snapshot is written whole with every commit),
	// the inputs are drained, or maxStepTime passed.
	began := w.r.opts.Now()
	var rows []pendingRow
	var nIn, nOut, nErr uint64
	var wake []<-chan struct{}
	var lag uint64
	var consumed int64
	seq := w.cp.NextSeq
	for {
		batch, ch, l, err := w.read()
		if err != nil {
			if nIn == 0 {
				return err
			}
			break // commit what was processed; the next step meets it again
		}
		wake, lag = ch, l
		for _, ev := range batch {
			out, errs := w.eng.Process(ev)
			w.cp.Positions[ev.Stream] = ev.Position + 1
			nIn++
			consumed += int64(len(ev.Payload))
			rows, seq, nOut, nErr = w.rows(rows, seq, out, errs, nOut, nErr)
		}
		if len(batch) == 0 || lag == 0 || len(rows) >= maxRowsPerStep || consumed*stateToInput >= w.eng.StateBytes() ||
			w.r.opts.Now().Sub(began) >= maxStepTime {
			break
		}
	}
	now := w.r.opts.Now()
	if now.Sub(w.lastAdvance) >= w.r.opts.AdvanceInterval {
		w.lastAdvance = now
		out := w.eng.Advance(now)
		rows, seq, nOut, nErr = w.rows(rows, seq, out, w.eng.AdvanceErrors(), nOut, nErr)
	}
	w.stats.lag.Store(lag)
	if nIn == 0 && len(rows) == 0 {
		w.stats.setStatus("idle", nil)
		w.wait(wake)
		return nil
	}
	state, err := w.eng.Snapshot()
	if err != nil {
		w.eng = nil // back to the checkpoint
		return fmt.Errorf("streamworkers: %s: engine snapshot: %w", w.id, err)
	}
	cp := w.cp
	cp.NextSeq = seq
	cp.In, cp.Out, cp.Errors = cp.In+nIn, cp.Out+nOut, cp.Errors+nErr
	if err := w.r.cps.commit(w.id, cp, state, rows); err != nil {
		// The engine went past the checkpoint: restore it from there.
		w.eng = nil
		return err
	}
	w.cp = cp
	w.pending = append(w.pending, rows...)
	w.stats.in.Store(cp.In)
	w.stats.out.Store(cp.Out)
	w.stats.errs.Store(cp.Errors)
	w.stats.stateBytes.Store(w.eng.StateBytes())
	w.stats.pending.Store(int64(len(w.pending)))
	w.stats.setPositions(cp.Positions)
	w.stats.setStatus("running", nil)
	if w.r.opts.crash("after-commit") {
		return errCrashed
	}
	return w.flush()
}

// rows numbers the engine's rows and errors as pending rows: a row that
// cannot be written where it goes is an error record instead.
func (w *worker) rows(acc []pendingRow, seq int64, out []engine.Row, errs []engine.EventError, nOut, nErr uint64) ([]pendingRow, int64, uint64, uint64) {
	o := w.plan.Output
	to := toStream
	if o.Kind == engine.OutputCollection {
		to = toCollection
	}
	for _, r := range out {
		if err := checkRow(o, r, w.r.node.Config().MaxMessageBytes); err != nil {
			acc = append(acc, w.errorRow(seq, engine.Event{Stream: "", Key: r.Key, Payload: r.Value}, fmt.Errorf("row for %s %s: %w", o.Kind, o.Name, err)))
			nErr++
		} else {
			acc = append(acc, pendingRow{Seq: seq, To: to, Target: o.Name, Key: r.Key, Value: r.Value})
			nOut++
		}
		seq++
	}
	for _, e := range errs {
		acc = append(acc, w.errorRow(seq, e.Event, e.Err))
		nErr++
		seq++
	}
	return acc, seq, nOut, nErr
}

func (w *worker) errorRow(seq int64, ev engine.Event, err error) pendingRow {
	return pendingRow{Seq: seq, To: toErrors, Target: ErrorStream(w.def.Name), Key: ev.Key, Value: errorValue(w.def.Name, w.r.region, ev, err)}
}

// flush forgets the rows seen sent and hands the others out: publishes
// go to the broker and complete later (the next steps overlap their
// fsync), upserts are written now.
func (w *worker) flush() error {
	if err := w.collect(); err != nil {
		return err
	}
	if w.handed < len(w.pending) && w.r.opts.crash("mid-send") {
		rows := w.pending[w.handed:]
		_, _, _ = w.sink.send(rows[:len(rows)/2])
		return errCrashed
	}
	for w.handed < len(w.pending) && w.out.inflight() < maxInflightBatches {
		rows := w.pending[w.handed:]
		j := 1
		for j < len(rows) && j < maxRowsPerWrite && rows[j].To == rows[0].To && rows[j].Target == rows[0].Target {
			j++
		}
		b := &sendBatch{rows: j, last: rows[j-1].Seq}
		w.out.push(b)
		w.handed += j
		if rows[0].To == toCollection {
			bad, err := w.sink.upsert(rows[0].Target, rows[:j])
			w.out.complete(b, bad, err)
		} else {
			w.sink.publishAsync(rows[0].To, rows[0].Target, rows[:j], func(err error) { w.out.complete(b, 0, err) })
		}
	}
	return nil
}

// collect forgets the rows of the batches that completed. After a failed
// one it waits for the others in flight and starts over from the first
// row not seen sent (a row sent twice is dropped or rewritten the same).
func (w *worker) collect() error {
	var sentThrough int64 = -1
	var bad int
	var failed error
	for _, b := range w.out.popDone() {
		if b.err != nil {
			failed = b.err
			break
		}
		w.pending = w.pending[b.rows:]
		w.handed -= b.rows
		sentThrough, bad = b.last, bad+b.bad
	}
	if bad > 0 {
		w.stats.errs.Add(uint64(bad))
	}
	w.stats.pending.Store(int64(len(w.pending)))
	if sentThrough >= 0 {
		if w.r.opts.crash("after-send") {
			return errCrashed
		}
		if err := w.r.cps.sent(w.id, sentThrough); err != nil {
			w.log.Warn("stream worker: forgetting sent rows (they are sent again after a restart)", zap.Error(err))
		}
	}
	if failed != nil {
		if !w.out.waitAll(w.stop, time.Hour) {
			return failed // stopping
		}
		w.out.reset()
		w.handed = 0
		w.sink.close()
		w.stats.setStatus("waiting to send", failed)
		return failed
	}
	return nil
}

// read returns the next events of the inputs (at most a batch, merged in
// publish-time order), the channels that signal new messages, and the lag.
func (w *worker) read() (evs []engine.Event, wake []<-chan struct{}, lag uint64, err error) {
	per := max(1, w.r.opts.BatchRecords/len(w.plan.Inputs))
	perBytes := max(1, w.r.opts.BatchBytes/len(w.plan.Inputs))
	for _, in := range w.plan.Inputs {
		st, err := w.r.node.Stream(w.inputName(in))
		if err != nil {
			return nil, nil, 0, fmt.Errorf("streamworkers: %s: input stream %s: %w", w.id, in, err)
		}
		src := st.Source()
		wake = append(wake, src.Changed())
		pos := w.cp.Positions[in]
		if start := src.StartOffset(); pos < start {
			// Retention deleted messages this worker had not read.
			w.log.Warn("stream worker input lost unread messages to retention", zap.String("stream", in),
				zap.Uint64("from", pos), zap.Uint64("to", start))
			pos = start
			w.cp.Positions[in] = pos
		}
		end := src.EndOffset()
		if end <= pos {
			continue
		}
		lag += end - pos
		recs, err := src.Read(pos, per, perBytes)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("streamworkers: %s: reading %s at %d: %w", w.id, in, pos, err)
		}
		for _, rec := range recs {
			if rec.Offset < pos {
				continue
			}
			evs = append(evs, engine.Event{Stream: in, Position: rec.Offset, Key: rec.Key, Payload: rec.Payload,
				Properties: rec.Properties, Time: time.UnixMilli(rec.PublishTime).UTC()})
		}
	}
	if len(w.plan.Inputs) > 1 {
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	}
	lag -= min(lag, uint64(len(evs)))
	return evs, wake, lag, nil
}

// wait blocks until an input has news, the engine is due the time, or the
// worker stops.
func (w *worker) wait(wake []<-chan struct{}) {
	t := time.NewTimer(w.r.opts.AdvanceInterval)
	defer t.Stop()
	cases := []reflect.SelectCase{
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(w.stop)},
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(t.C)},
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(w.out.kick)},
	}
	for _, c := range wake {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c)})
	}
	reflect.Select(cases)
}

// lookup reads a fabric's collections for lookup joins.
type lookup struct {
	cols           *service.Service
	tenant, fabric string
}

func (l lookup) Get(collection, key string) ([]byte, bool, error) {
	doc, _, err := l.cols.Document(service.Ref{Tenant: l.tenant, Fabric: l.fabric, Collection: collection}, key)
	switch {
	case errors.Is(err, service.ErrDocumentNotFound), errors.Is(err, service.ErrInvalidKey):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return doc, true, nil
}
