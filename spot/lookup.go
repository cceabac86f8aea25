package spot

import (
	"encoding/json"
	"fmt"
	"hash/fnv"

	"github.com/cockroachdb/pebble/v2"
)

// The queries Lookup answers. Each reads one consistent Pebble snapshot.
type (
	// txnQuery runs a read-only transaction; the answer is an *outcome.
	txnQuery struct {
		tenant, fabric string
		nowMs          uint64
		txn            *Txn
	}
	// listQuery lists up to limit visible documents with keys after
	// after; the answer is a *ListResult.
	listQuery struct {
		ref   Ref
		after string
		limit int
		nowMs uint64
	}
	// collectionsQuery lists a fabric's SPOT collections (name "" ) or
	// describes one; the answer is a []CollectionInfo.
	collectionsQuery struct {
		tenant, fabric, name string
	}
	// stateQuery describes the replica; the answer is a ReplicaState.
	stateQuery struct{}
)

// ListResult is one page of a collection's documents in key order.
type ListResult struct {
	Docs []json.RawMessage `json:"result"`
	// More is set when documents follow; Next is the key to continue
	// after.
	More bool   `json:"hasMore"`
	Next string `json:"next,omitempty"`
}

// ReplicaState describes a replica's copy of the group's state.
type ReplicaState struct {
	Applied uint64
	// Digest hashes every collection and document (not the request
	// records): replicas that applied the same entries have equal digests.
	Digest   uint64
	Restores uint64
}

// Lookup implements sm.IOnDiskStateMachine.
func (m *stateMachine) Lookup(q any) (any, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed || m.db == nil {
		return nil, fmt.Errorf("%w: replica state closed", ErrClosed)
	}
	snap := m.db.NewSnapshot()
	defer snap.Close()
	switch q := q.(type) {
	case txnQuery:
		return lookupTxn(snap, m.home, q)
	case listQuery:
		return lookupList(snap, q)
	case collectionsQuery:
		return lookupCollections(snap, q)
	case stateQuery:
		st, err := lookupState(snap)
		st.Restores = m.restores.Load()
		return st, err
	}
	return nil, fmt.Errorf("%w: unknown query %T", ErrInternal, q)
}

func lookupTxn(snap *pebble.Snapshot, home string, q txnQuery) (*outcome, error) {
	applied, err := readApplied(snap)
	if err != nil {
		return nil, err
	}
	out := &outcome{Index: applied}
	if !q.txn.ReadOnly() {
		return nil, fmt.Errorf("%w: a read query holds a write", ErrInternal)
	}
	ex, err := runTxn(pebbleReader{snap}, execContext{home: home, index: applied, nowMs: q.nowMs}, q.tenant, q.fabric, q.txn)
	if err != nil {
		out.Err = toWire(err)
		return out, nil
	}
	out.Results = ex.results
	return out, nil
}

func lookupList(snap *pebble.Snapshot, q listQuery) (*ListResult, error) {
	info, ok, err := pebbleReader{snap}.collection(q.ref.Tenant, q.ref.Fabric, q.ref.Collection)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrCollectionNotFound, q.ref.Collection)
	}
	lo := docPrefix(info.ID)
	if q.after != "" {
		lo = append(docKey(info.ID, q.after), 0)
	}
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(docPrefix(info.ID))})
	if err != nil {
		return nil, fmt.Errorf("spot: list %s: %w", q.ref, err)
	}
	defer it.Close()
	res := &ListResult{Docs: []json.RawMessage{}}
	for it.First(); it.Valid(); it.Next() {
		r := pebbleReader{snap}
		key := string(it.Key()[len(docPrefix(info.ID)):])
		d, err := r.doc(info.ID, key)
		if err != nil {
			return nil, err
		}
		if !visible(d, q.nowMs) {
			continue
		}
		if len(res.Docs) == q.limit {
			res.More = true
			break
		}
		doc, _ := d.JSON()
		res.Docs = append(res.Docs, doc)
		res.Next = key
	}
	if !res.More {
		res.Next = ""
	}
	return res, nil
}

func lookupCollections(snap *pebble.Snapshot, q collectionsQuery) ([]CollectionInfo, error) {
	if q.name != "" {
		info, ok, err := pebbleReader{snap}.collection(q.tenant, q.fabric, q.name)
		if err != nil || !ok {
			return nil, err
		}
		return []CollectionInfo{info}, nil
	}
	p := collectionPrefix(q.tenant, q.fabric)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, fmt.Errorf("spot: list collections: %w", err)
	}
	defer it.Close()
	out := []CollectionInfo{}
	for it.First(); it.Valid(); it.Next() {
		var info CollectionInfo
		if err := jsonUnmarshal(it.Value(), &info); err != nil {
			return nil, fmt.Errorf("%w: collection record: %w", errStorage, err)
		}
		out = append(out, info)
	}
	return out, nil
}

func lookupState(snap *pebble.Snapshot) (ReplicaState, error) {
	applied, err := readApplied(snap)
	if err != nil {
		return ReplicaState{}, err
	}
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixCollection}, UpperBound: []byte{prefixDedup}})
	if err != nil {
		return ReplicaState{}, fmt.Errorf("spot: digest: %w", err)
	}
	defer it.Close()
	h := fnv.New64a()
	for it.First(); it.Valid(); it.Next() {
		h.Write(it.Key())
		h.Write([]byte{0})
		h.Write(it.Value())
		h.Write([]byte{0})
	}
	return ReplicaState{Applied: applied, Digest: h.Sum64()}, nil
}
