package service

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/store"
)

// WriteKind is what a Write does.
type WriteKind uint8

const (
	// Insert creates a document; Overwrite says what happens when the key
	// exists. An empty Key gets a generated one.
	Insert WriteKind = iota + 1
	// Replace makes an existing document Doc.
	Replace
	// Update patches an existing document with Doc (see patchOps).
	Update
	// Delete deletes an existing document.
	Delete
	// Put sets a key/value entry (creating or replacing it).
	Put
	// expire deletes a key/value entry whose expiry has passed (sweeper).
	expire
	// deleteIfExists deletes a document, and is a no-op when it is absent
	// (truncate).
	deleteIfExists
)

// OverwriteMode is what an Insert of an existing key does (ArangoDB's
// overwriteMode).
type OverwriteMode uint8

const (
	OverwriteConflict OverwriteMode = iota // refuse: ErrKeyExists
	OverwriteReplace
	OverwriteUpdate
	OverwriteIgnore
)

// Write is one document write of a request.
type Write struct {
	Kind WriteKind
	Key  string
	// Doc holds the user attributes (no _key, _id or _rev) for Insert,
	// Replace and Put, and the patch for Update: decoded JSON with numbers
	// as json.Number.
	Doc map[string]any
	// IfRev, when set, must be the document's current _rev.
	IfRev string
	// ExpiresAt is the entry's expiry in Unix ms for writes to key/value
	// collections (0: the collection's default TTL, if any, unless
	// NoExpiry says none).
	ExpiresAt    uint64
	NoExpiry     bool
	Overwrite    OverwriteMode
	KeepNull     bool
	MergeObjects bool
	ReturnOld    bool
	ReturnNew    bool
}

// Result is the outcome of one Write. Err is set when that write was
// refused (nothing of it was written); the others still apply.
type Result struct {
	Key    string
	Rev    string
	OldRev string
	Old    json.RawMessage
	New    json.RawMessage
	Err    error
}

// Bounds of one write request.
const (
	// MaxWritesPerRequest bounds the documents of one batch request.
	MaxWritesPerRequest = 10_000
	// maxOpsPerRequest bounds the ops one request may produce.
	maxOpsPerRequest = 100_000
	// opOverheadBytes is a generous bound on an op's encoding beyond its
	// value, path and key.
	opOverheadBytes = 4 << 10
)

// docWrite is one document's part of an entry.
type docWrite struct {
	key    string
	old    *collections.Doc // state before (nil: none)
	next   *collections.Doc // state after, compacted (nil: collected)
	shown  []byte           // the visible document after (nil: none)
	rev    string
	change string // change event kind
	lastOp int    // index of its last op in the entry
	region string // origin of its last op
	hlc    uint64
	ov     *overlayEntry
}

// entry is the ops of one request on one collection, published together.
type entry struct {
	info    *store.CollectionInfo
	docs    []*docWrite
	ops     []collections.Op
	msgs    []broker.Message
	applied collections.Vector
	hlc     uint64
	done    chan struct{}
	err     error
}

// Write applies writes to a collection and returns once they are durable
// and visible. The returned error is for the request as a whole (unknown
// collection, op log failure); per-write refusals are in the results.
func (s *Service) Write(ref Ref, ws []Write) ([]Result, error) {
	if len(ws) > MaxWritesPerRequest {
		return nil, fmt.Errorf("%w: %d documents in one request, the limit is %d", ErrTooLarge, len(ws), MaxWritesPerRequest)
	}
	c, err := s.collection(ref)
	if err != nil {
		return nil, err
	}
	return c.write(ws)
}

func (c *collection) write(ws []Write) ([]Result, error) {
	results, _, err := c.writeMode(ws, false)
	return results, err
}

// writeMode runs writes; with all, either every write applies or none
// (WriteAll), and applied reports which.
func (c *collection) writeMode(ws []Write, all bool) (results []Result, applied bool, err error) {
	if err := c.svc.waitJoined(); err != nil {
		return nil, false, err
	}
	c.mu.Lock()
	if err := c.writable(); err != nil {
		c.mu.Unlock()
		return nil, false, err
	}
	e := &entry{info: c.info.Load(), done: make(chan struct{})}
	local := map[string]*overlayEntry{}
	now := c.svc.now()
	if all {
		if refusals, ok := c.check(e.info, ws, now); !ok {
			c.mu.Unlock()
			return refusals, false, nil
		}
	}
	results = make([]Result, len(ws))
	for i := range ws {
		results[i] = c.prepare(e, &ws[i], local, now)
	}
	if len(e.ops) == 0 {
		c.mu.Unlock()
		return results, true, nil
	}
	c.publish(e)
	c.mu.Unlock()
	<-e.done
	if e.err != nil {
		return nil, false, e.err
	}
	return results, true, nil
}

// current returns a document's newest state: this entry's, then a pending
// one, then the view's.
func (c *collection) current(key string, local map[string]*overlayEntry) (*collections.Doc, error) {
	if p, ok := local[key]; ok {
		return p.doc, nil
	}
	c.ovMu.Lock()
	p, ok := c.overlay[key]
	c.ovMu.Unlock()
	if ok {
		return p.doc, nil
	}
	return c.svc.store.Doc(c.info.Load().ID, key)
}

// prepare turns one write into ops applied to the entry's states. Nothing
// is sequenced until every op of the write is known to be valid.
func (c *collection) prepare(e *entry, w *Write, local map[string]*overlayEntry, now uint64) Result {
	pl := c.plan(e.info, w, local, now, len(e.ops))
	if pl.res.Err != nil || pl.ops == nil {
		return pl.res
	}
	// Every op is valid: sequence and apply them.
	res, cur, ops := pl.res, pl.cur, pl.ops
	var next *collections.Doc
	if cur != nil {
		next = cur.Clone()
	} else {
		next = collections.NewDoc(e.info.Name, res.Key)
	}
	dw := &docWrite{key: res.Key, old: cur, change: pl.change, region: c.svc.region}
	for i := range ops {
		op := &ops[i]
		op.Dot, op.Context, op.HLC = c.svc.seq.Next(c.ref)
		if _, err := next.Apply(op); err != nil {
			// Cannot happen for a validated op; the dot is taken, so the
			// op still goes to the log for the other regions.
			c.log.Error("apply of a validated op failed", zap.Error(err))
		}
		e.add(op)
		dw.hlc = op.HLC
	}
	c.finish(e, dw, next, local)
	res.Rev = dw.rev
	if w.ReturnOld && pl.visible {
		res.Old, _ = cur.JSON()
	}
	if w.ReturnNew {
		res.New = dw.shown
	}
	return res
}

// planned is a write checked and turned into ops that are not sequenced
// yet.
type planned struct {
	res     Result // Err set: refused; ops nil: nothing to write, res is final
	cur     *collections.Doc
	visible bool
	ops     []collections.Op
	change  string
}

// plan checks one write against the document's newest state and returns
// its ops, unsequenced; it changes nothing. opsBefore is how many ops the
// request holds already.
func (c *collection) plan(info *store.CollectionInfo, w *Write, local map[string]*overlayEntry, now uint64, opsBefore int) planned {
	key := w.Key
	if w.Kind == Insert && key == "" {
		key = c.svc.newKey()
	}
	pl := planned{res: Result{Key: key}}
	fail := func(err error) planned { pl.res.Err = err; return pl }
	if err := collections.ValidateKey(key); err != nil {
		return fail(fmt.Errorf("%w: %w", ErrInvalidKey, err))
	}
	cur, err := c.current(key, local)
	if err != nil {
		return fail(err)
	}
	pl.cur = cur
	visible := store.Visible(cur, now)
	pl.visible = visible
	if visible {
		pl.res.OldRev = cur.Rev()
	}
	kind := w.Kind
	if kind == Insert && visible {
		switch w.Overwrite {
		case OverwriteReplace:
			kind = Replace
		case OverwriteUpdate:
			kind = Update
		case OverwriteIgnore:
			pl.res.Rev = pl.res.OldRev
			return pl
		default:
			return fail(fmt.Errorf("%w: %s/%s", ErrKeyExists, info.Name, key))
		}
	}
	switch kind {
	case Replace, Update, Delete:
		if !visible {
			return fail(fmt.Errorf("%w: %s/%s", ErrDocumentNotFound, info.Name, key))
		}
	case expire:
		if cur == nil || !cur.Exists() || visible {
			return pl // renewed or gone meanwhile
		}
	case deleteIfExists:
		if !visible {
			return pl
		}
	}
	if w.IfRev != "" && (!visible || w.IfRev != pl.res.OldRev) {
		return fail(fmt.Errorf("%w: %s/%s has _rev %q, the request expects %q", ErrPrecondition, info.Name, key, pl.res.OldRev, w.IfRev))
	}
	specs, change, err := c.specs(info, kind, w, cur, visible)
	if err != nil {
		return fail(err)
	}
	if len(specs) == 0 {
		pl.res.Rev = pl.res.OldRev
		return pl
	}
	expiresAt, err := c.expiry(info, kind, w, now)
	if err != nil {
		return fail(err)
	}
	if opsBefore+len(specs) > maxOpsPerRequest {
		return fail(fmt.Errorf("%w: more than %d operations in one request", ErrTooLarge, maxOpsPerRequest))
	}
	ops := make([]collections.Op, len(specs))
	maxOpBytes := c.svc.node.Config().MaxMessageBytes
	for i, sp := range specs {
		ops[i] = collections.Op{
			Collection: info.Name, Key: key, Kind: sp.kind, Path: sp.path, Value: sp.value,
			Dot: collections.Dot{Region: c.svc.region, Seq: 1},
		}
		if sp.kind == collections.KindInsert || sp.kind == collections.KindReplace || (sp.kind == collections.KindSet && expiresAt != 0) {
			ops[i].ExpiresAt = expiresAt
		}
		if err := ops[i].Validate(); err != nil {
			return fail(err)
		}
		if n := len(sp.value) + len(key) + opOverheadBytes; n > maxOpBytes {
			return fail(fmt.Errorf("%w: an operation of about %d bytes exceeds the node's message limit of %d", ErrTooLarge, n, maxOpBytes))
		}
	}
	pl.ops, pl.change = ops, change
	return pl
}

// specs returns the ops of a write and the change kind it shows as.
func (c *collection) specs(info *store.CollectionInfo, kind WriteKind, w *Write, cur *collections.Doc, visible bool) ([]opSpec, string, error) {
	switch kind {
	case Delete, expire, deleteIfExists:
		name := "delete"
		if kind == expire {
			name = "expire"
		}
		return []opSpec{{kind: collections.KindDelete}}, name, nil
	case Update:
		if info.Type == store.TypeEdge {
			if err := checkEdge(w.Doc, true); err != nil {
				return nil, "", err
			}
		}
		var curMap map[string]any
		if visible {
			curMap = decodeDoc(cur)
		}
		specs, err := patchOps(curMap, w.Doc, w.KeepNull, w.MergeObjects)
		return specs, "update", err
	}
	if info.Type == store.TypeEdge {
		if err := checkEdge(w.Doc, false); err != nil {
			return nil, "", err
		}
	}
	doc := w.Doc
	if doc == nil {
		doc = map[string]any{}
	}
	raw, err := encodeJSON(doc)
	if err != nil {
		return nil, "", err
	}
	if kind == Insert && !visible {
		return []opSpec{{kind: collections.KindInsert, value: raw}}, "insert", nil
	}
	return []opSpec{{kind: collections.KindReplace, value: raw}}, "replace", nil
}

// checkEdge requires string _from and _to ("collection/key") in an edge
// document (in a patch, only when present).
func checkEdge(doc map[string]any, patch bool) error {
	for _, name := range []string{"_from", "_to"} {
		v, ok := doc[name]
		if !ok && patch {
			continue
		}
		s, isString := v.(string)
		if !isString || !strings.Contains(s, "/") {
			return fmt.Errorf("%w: an edge needs %s as \"collection/key\"", ErrBadRequest, name)
		}
	}
	return nil
}

// expiry returns the expiry whole-document writes carry.
func (c *collection) expiry(info *store.CollectionInfo, kind WriteKind, w *Write, now uint64) (uint64, error) {
	if !info.KeyValue {
		if w.ExpiresAt != 0 || w.NoExpiry {
			return 0, fmt.Errorf("%w: %s: expiry needs a key/value collection", ErrNotKeyValue, info.Name)
		}
		return 0, nil
	}
	if kind == Delete || kind == expire || kind == deleteIfExists || kind == Update {
		return w.ExpiresAt, nil
	}
	if w.ExpiresAt == 0 && !w.NoExpiry && info.DefaultTTLSeconds > 0 {
		return now + uint64(info.DefaultTTLSeconds)*1000, nil
	}
	return w.ExpiresAt, nil
}

// add appends an applied op to the entry with its op-log message.
func (e *entry) add(op *collections.Op) {
	e.ops = append(e.ops, *op)
	payload, err := op.AppendBinary(nil)
	if err != nil {
		panic("collections: encode of a validated op: " + err.Error())
	}
	e.msgs = append(e.msgs, broker.Message{Key: op.Key, Payload: payload, SequenceID: -1})
	e.applied = e.applied.Merge(collections.Vector{{Region: op.Dot.Region, Seq: op.Dot.Seq}})
	e.hlc = max(e.hlc, op.HLC)
}

// finish records a document's new state in the entry: its revision and
// visible form, then the compacted state the view keeps.
func (c *collection) finish(e *entry, dw *docWrite, next *collections.Doc, local map[string]*overlayEntry) {
	dw.rev = next.Rev()
	dw.shown, _ = next.JSON()
	dw.lastOp = len(e.ops) - 1
	if next.Compact(c.svc.seq.Stable(c.ref)) {
		next = nil
	}
	dw.next = next
	dw.ov = &overlayEntry{doc: next}
	local[dw.key] = dw.ov
	e.docs = append(e.docs, dw)
}

// publish hands the entry to the op log. Callers hold mu; the callback runs
// on the log's writer goroutine once the ops are durable.
func (c *collection) publish(e *entry) {
	c.ovMu.Lock()
	for _, dw := range e.docs {
		c.overlay[dw.key] = dw.ov
	}
	c.ovMu.Unlock()
	c.applied = c.applied.Merge(e.applied)
	e.applied = c.applied
	c.pending.Add(1)
	c.ops.PublishAsync(e.msgs, func(res []broker.PublishResult) { c.durable(e, res) })
}

// durable runs when the op log has the entry's ops: it commits the new
// states to the view, answers the request, and publishes the change events.
func (c *collection) durable(e *entry, res []broker.PublishResult) {
	for _, r := range res {
		if r.Err != nil {
			c.abandon(e, fmt.Errorf("%w: op log: %w", ErrUnavailable, r.Err))
			return
		}
	}
	if p := c.failed.Load(); p != nil {
		// An earlier entry failed: committing this one would move the
		// view and the change feed past it. Its ops are durable; the
		// restart that the failure asks for re-applies both in order.
		c.abandon(e, fmt.Errorf("%w: an earlier write failed: %w", ErrUnavailable, *p))
		return
	}
	b := c.svc.store.NewBatch()
	defer b.Close()
	var err error
	for _, dw := range e.docs {
		if err = b.PutDoc(e.info, dw.key, dw.old, dw.next); err != nil {
			break
		}
	}
	if err == nil {
		err = b.SetApplied(e.info.ID, e.applied, e.hlc)
	}
	if err == nil {
		err = b.Commit()
	}
	if err != nil {
		// The ops are durable: a restart re-applies them.
		c.abandon(e, fmt.Errorf("%w: view: %w", ErrUnavailable, err))
		return
	}
	c.dropOverlay(e)
	close(e.done)
	c.ship.advance(res[len(res)-1].Offset + 1)
	c.publishChanges(e, res)
}

// abandon fails an entry and the collection: its later writes are refused
// until a restart re-reads the op log.
func (c *collection) abandon(e *entry, err error) {
	c.log.Error("write failed, collection refuses writes until restart", zap.Error(err))
	c.failed.CompareAndSwap(nil, &err)
	e.err = err
	c.dropOverlay(e)
	close(e.done)
	c.pending.Done()
}

func (c *collection) dropOverlay(e *entry) {
	c.ovMu.Lock()
	for _, dw := range e.docs {
		if c.overlay[dw.key] == dw.ov {
			delete(c.overlay, dw.key)
		}
	}
	c.ovMu.Unlock()
}

// joinWaiter is a Replication that can say when it has joined (the
// replication shell); others are always joined.
type joinWaiter interface {
	JoinedC() <-chan struct{}
}

// maxJoinWait bounds how long a write waits for the region to join before
// it is refused: a new fabric joins in one round trip, a wiped region once
// its own ops are back.
const maxJoinWait = 10 * time.Second

// waitJoined holds a write while the region is joining the fabric (see
// Replication.Joined): it must not number new ops before its previous
// life's, if any, are back and applied.
func (s *Service) waitJoined() error {
	r := s.replication()
	if r == nil || r.Joined() {
		return nil
	}
	w, ok := r.(joinWaiter)
	if !ok {
		return fmt.Errorf("%w: this region is joining the fabric (getting its data back from its peers); retry shortly", ErrUnavailable)
	}
	t := time.NewTimer(maxJoinWait)
	defer t.Stop()
	select {
	case <-w.JoinedC():
		return nil
	case <-s.stop:
		return fmt.Errorf("%w: shutting down", ErrUnavailable)
	case <-t.C:
		return fmt.Errorf("%w: this region is still joining the fabric after %s (getting its data back from its peers); retry shortly", ErrUnavailable, maxJoinWait)
	}
}
