package spot

import (
	"encoding/json"
	"fmt"

	"github.com/causeway/causeway/collections"
)

// CollectionInfo describes a SPOT collection. It is written once, when the
// collection is created, and never changes: the home region is immutable.
type CollectionInfo struct {
	Tenant string `json:"tenant"`
	Fabric string `json:"fabric"`
	Name   string `json:"name"`
	// ID is the Raft index of the entry that created the collection.
	ID       uint64 `json:"id"`
	Home     string `json:"homeRegion"`
	KeyValue bool   `json:"keyValue,omitempty"`
	// CreatedAt is Unix ms by the clock of the node that proposed it.
	CreatedAt int64 `json:"createdAt"`
}

// Ref returns the collection's name triple.
func (c CollectionInfo) Ref() Ref { return Ref{Tenant: c.Tenant, Fabric: c.Fabric, Collection: c.Name} }

// OpResult is the outcome of one operation of an applied transaction.
type OpResult struct {
	Key string `json:"_key"`
	ID  string `json:"_id"`
	// Rev is the document's _rev after the operation ("" when it does not
	// exist); OldRev the one before it (writes only).
	Rev    string `json:"_rev,omitempty"`
	OldRev string `json:"_oldRev,omitempty"`
	// Found reports whether the document exists after the operation.
	Found bool `json:"found"`
	// Doc is the document after the operation (_key, _id, _rev first),
	// absent when it does not exist.
	Doc json.RawMessage `json:"doc,omitempty"`
	// ExpiresAt is the document's expiry in Unix ms (0: none).
	ExpiresAt uint64 `json:"expiresAt,omitempty"`
}

// Change is one message of a SPOT collection's change feed: a document as
// it is after an applied transaction. Its fields are those of the
// collections change feed, so one consumer reads both.
type Change struct {
	Key     string          `json:"_key"`
	ID      string          `json:"_id"`
	Rev     string          `json:"_rev"`
	Op      string          `json:"op"`
	Region  string          `json:"region"`
	Dot     string          `json:"dot"`
	HLC     uint64          `json:"hlc"`
	Deleted bool            `json:"deleted"`
	Doc     json.RawMessage `json:"doc"`
	// ExpiresAt is the document's expiry in Unix ms (0: none).
	ExpiresAt uint64 `json:"expiresAt,omitempty"`
	// Collection and Index (the Raft entry) travel beside the event; the
	// feed carries them as the stream and the sequence id.
	Collection Ref    `json:"-"`
	Index      uint64 `json:"-"`
}

// reader is the state a transaction runs against.
type reader interface {
	// collection returns a collection's description (false: none).
	collection(tenant, fabric, name string) (CollectionInfo, bool, error)
	// doc returns a document's state (nil: none).
	doc(collectionID uint64, key string) (*collections.Doc, error)
}

// execContext is what a transaction runs with besides the state: the
// group's home region (the dots' region), the Raft index of its entry (the
// base of its dots) and the proposer's clock (for expiry).
type execContext struct {
	home  string
	index uint64
	nowMs uint64
}

// docWrite is the final state of a document a transaction wrote (nil:
// remove it).
type docWrite struct {
	collectionID uint64
	key          string
	doc          *collections.Doc
}

// execution is what an accepted transaction does: the document states to
// store, the change events and the results.
type execution struct {
	writes  []docWrite
	changes []Change
	results []OpResult
}

// docRef names a document inside the executor.
type docRef struct {
	collectionID uint64
	key          string
}

// txnRun is one transaction being executed.
type txnRun struct {
	r       reader
	x       execContext
	tenant  string
	fabric  string
	cols    map[string]CollectionInfo
	overlay map[docRef]*collections.Doc
	touched []docRef // written documents, in order of first write
	kinds   map[docRef]Kind
	seq     uint64 // dots handed out so far
}

// runTxn executes t against r. It is deterministic: the same state, context
// and transaction give the same outcome in every replica. A refused
// transaction returns a *TxnError and nothing to write.
func runTxn(r reader, x execContext, tenant, fabric string, t *Txn) (*execution, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	run := &txnRun{
		r: r, x: x, tenant: tenant, fabric: fabric,
		cols:    map[string]CollectionInfo{},
		overlay: map[docRef]*collections.Doc{},
		kinds:   map[docRef]Kind{},
	}
	for i := range t.Preconditions {
		p := &t.Preconditions[i]
		info, err := run.collection(p.Collection)
		if err != nil {
			return nil, preconditionError(i, err)
		}
		d, err := run.current(docRef{info.ID, p.Key})
		if err != nil {
			return nil, preconditionError(i, err)
		}
		if err := run.check(p, info, d); err != nil {
			return nil, preconditionError(i, err)
		}
	}
	ex := &execution{results: make([]OpResult, len(t.Ops))}
	for i := range t.Ops {
		res, err := run.op(&t.Ops[i])
		if err != nil {
			return nil, opError(i, err)
		}
		ex.results[i] = res
	}
	run.finish(ex)
	return ex, nil
}

// collection resolves a collection name of the transaction's fabric.
func (run *txnRun) collection(name string) (CollectionInfo, error) {
	if info, ok := run.cols[name]; ok {
		return info, nil
	}
	info, ok, err := run.r.collection(run.tenant, run.fabric, name)
	if err != nil {
		return CollectionInfo{}, err
	}
	if !ok {
		return CollectionInfo{}, fmt.Errorf("%w: %s (no SPOT collection of that name in fabric %s)", ErrCollectionNotFound, name, run.fabric)
	}
	if info.Home != run.x.home {
		return CollectionInfo{}, fmt.Errorf("%w: %s lives in %s, this group in %s", ErrHomeMismatch, name, info.Home, run.x.home)
	}
	run.cols[name] = info
	return info, nil
}

// current returns a document's state as the transaction has it so far.
func (run *txnRun) current(ref docRef) (*collections.Doc, error) {
	if d, ok := run.overlay[ref]; ok {
		return d, nil
	}
	return run.r.doc(ref.collectionID, ref.key)
}

// visible reports whether d is a live, unexpired document.
func visible(d *collections.Doc, nowMs uint64) bool {
	if d == nil || !d.Exists() {
		return false
	}
	exp := d.ExpiresAt()
	return exp == 0 || exp > nowMs
}

func (run *txnRun) check(p *Precondition, info CollectionInfo, d *collections.Doc) error {
	live := visible(d, run.x.nowMs)
	id := info.Name + "/" + p.Key
	switch {
	case p.Exists != nil:
		if live != *p.Exists {
			if live {
				return fmt.Errorf("%w: %s exists", ErrPrecondition, id)
			}
			return fmt.Errorf("%w: %s does not exist", ErrPrecondition, id)
		}
		return nil
	case !live:
		return fmt.Errorf("%w: %s does not exist", ErrPrecondition, id)
	case p.Rev != "":
		if rev := d.Rev(); rev != p.Rev {
			return fmt.Errorf("%w: %s has _rev %s, want %s", ErrPrecondition, id, rev, p.Rev)
		}
		return nil
	}
	attrs, err := docAttributes(d)
	if err != nil {
		return err
	}
	want, err := decodeValue(p.Equals)
	if err != nil {
		return fmt.Errorf("%w: equals: %w", ErrBadRequest, err)
	}
	got, ok := valueAt(attrs, p.Path)
	if !ok {
		return fmt.Errorf("%w: %s has no attribute %v", ErrPrecondition, id, p.Path)
	}
	if !jsonEqual(got, want) {
		shown, _ := encodeValue(got)
		return fmt.Errorf("%w: %s attribute %v is %s, want %s", ErrPrecondition, id, p.Path, truncate(shown), truncate(p.Equals))
	}
	return nil
}

// docAttributes decodes a visible document's user attributes.
func docAttributes(d *collections.Doc) (map[string]any, error) {
	raw, _ := d.JSON()
	attrs, err := userAttributes(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: stored document %s: %w", ErrInternal, d.ID(), err)
	}
	return attrs, nil
}

func (run *txnRun) op(op *Op) (OpResult, error) {
	info, err := run.collection(op.Collection)
	if err != nil {
		return OpResult{}, err
	}
	ref := docRef{info.ID, op.Key}
	d, err := run.current(ref)
	if err != nil {
		return OpResult{}, err
	}
	live := visible(d, run.x.nowMs)
	id := info.Name + "/" + op.Key
	oldRev := ""
	if live {
		oldRev = d.Rev()
	}
	if op.IfRev != "" && op.IfRev != oldRev {
		if !live {
			return OpResult{}, fmt.Errorf("%w: %s does not exist (ifRev %s)", ErrPrecondition, id, op.IfRev)
		}
		return OpResult{}, fmt.Errorf("%w: %s has _rev %s, ifRev %s", ErrPrecondition, id, oldRev, op.IfRev)
	}
	if op.Kind == Read {
		return result(info, op.Key, d, live), nil
	}
	specs, err := run.specs(op, info, d, live, id)
	if err != nil {
		return OpResult{}, err
	}
	next := collections.NewDoc(info.Name, op.Key)
	if d != nil {
		next = d.Clone()
	}
	for _, s := range specs {
		if err := run.apply(next, op, s); err != nil {
			return OpResult{}, err
		}
	}
	run.overlay[ref] = next
	if _, seen := run.kinds[ref]; !seen {
		run.touched = append(run.touched, ref)
	}
	run.kinds[ref] = op.Kind
	res := result(info, op.Key, next, visible(next, run.x.nowMs))
	res.OldRev = oldRev
	return res, nil
}

// specs turns a write into reducer ops, refusing what the current state
// does not allow.
func (run *txnRun) specs(op *Op, info CollectionInfo, d *collections.Doc, live bool, id string) ([]opSpec, error) {
	switch op.Kind {
	case Insert:
		if live {
			return nil, fmt.Errorf("%w: %s", ErrKeyExists, id)
		}
	case Replace, Update, Delete:
		if !live {
			return nil, fmt.Errorf("%w: %s", ErrDocumentNotFound, id)
		}
	}
	switch op.Kind {
	case Delete:
		return []opSpec{{kind: collections.KindDelete}}, nil
	case Update:
		patch, err := userAttributes(op.Doc)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
		attrs, err := docAttributes(d)
		if err != nil {
			return nil, err
		}
		specs, err := patchOps(attrs, patch, op.KeepNull == nil || *op.KeepNull, op.MergeObjects == nil || *op.MergeObjects)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
		return specs, nil
	}
	attrs, err := userAttributes(op.Doc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	raw, err := encodeValue(attrs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	kind := collections.KindReplace
	if op.Kind == Insert {
		kind = collections.KindInsert
	}
	return []opSpec{{kind: kind, value: raw}}, nil
}

// apply applies one reducer op to next with the transaction's next dot. Its
// context covers every earlier dot of the group, so it overrides all it
// touches.
func (run *txnRun) apply(next *collections.Doc, op *Op, s opSpec) error {
	run.seq++
	if run.seq >= maxReducerOpsPerTxn {
		return fmt.Errorf("%w: the transaction makes more than %d document changes", ErrTooLarge, maxReducerOpsPerTxn)
	}
	seq := run.x.index<<seqShift + run.seq
	rop := collections.Op{
		Collection: next.Collection(), Key: next.Key(), Kind: s.kind,
		Dot:     collections.Dot{Region: run.x.home, Seq: seq},
		Context: collections.Vector{{Region: run.x.home, Seq: seq - 1}},
		HLC:     seq, Path: s.path, Value: s.value,
	}
	if s.kind != collections.KindDelete && s.kind != collections.KindUnset && s.kind != collections.KindIncrement {
		rop.ExpiresAt = op.ExpiresAt
	}
	if _, err := next.Apply(&rop); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return nil
}

// finish compacts the written documents below the transaction's last dot
// (every op of a SPOT group is stable once applied) and lists their writes
// and change events.
func (run *txnRun) finish(ex *execution) {
	stable := collections.Vector{{Region: run.x.home, Seq: run.x.index<<seqShift + run.seq}}
	for _, ref := range run.touched {
		d := run.overlay[ref]
		shown, exists := d.JSON()
		change := Change{
			Key: ref.key, ID: d.ID(), Op: changeName(run.kinds[ref], exists),
			Region: run.x.home, Dot: collections.Dot{Region: run.x.home, Seq: stable[0].Seq}.String(),
			HLC: stable[0].Seq, Index: run.x.index,
			Collection: Ref{Tenant: run.tenant, Fabric: run.fabric, Collection: d.Collection()},
		}
		if exists {
			change.Rev = d.Rev()
			change.Doc = shown
			change.ExpiresAt = d.ExpiresAt()
		} else {
			change.Deleted = true
			change.Doc = json.RawMessage("null")
		}
		ex.changes = append(ex.changes, change)
		if d.Compact(stable) {
			d = nil
		}
		ex.writes = append(ex.writes, docWrite{collectionID: ref.collectionID, key: ref.key, doc: d})
	}
}

// changeName names a change event by the last write to the document.
func changeName(k Kind, exists bool) string {
	switch {
	case !exists:
		return "delete"
	case k == Insert || k == Replace:
		return string(k)
	case k == Put:
		return "replace"
	}
	return "update"
}

// result describes a document after an operation.
func result(info CollectionInfo, key string, d *collections.Doc, live bool) OpResult {
	res := OpResult{Key: key, ID: info.Name + "/" + key, Found: live}
	if live {
		res.Rev = d.Rev()
		res.Doc, _ = d.JSON()
		res.ExpiresAt = d.ExpiresAt()
	}
	return res
}

// truncate shortens b for an error message.
func truncate(b []byte) string {
	const maxShownBytes = 64
	if len(b) > maxShownBytes {
		return string(b[:maxShownBytes]) + "..."
	}
	return string(b)
}
