package spot

import (
	"encoding/json"
	"sync"
)

// FeedReader reads a collection's change feed as this node holds it: in a
// region other than the home, the copy geo-replication keeps of it.
type FeedReader interface {
	// ReadChanges returns up to max change events of ref's feed from offset
	// from on, the offset after them, the feed's end offset, and whether
	// the feed still holds its first event (nothing was trimmed). ok is
	// false when this node holds no feed for ref.
	ReadChanges(ref Ref, from uint64, max int) (changes []Change, next, end uint64, complete, ok bool, err error)
}

// Bounds of the mirror.
const (
	// maxMirroredCollections bounds the collections mirrored per node;
	// past it, reads of others are forwarded.
	maxMirroredCollections = 1000
	// maxMirrorDocs bounds the documents mirrored per collection; past it
	// the collection's reads are forwarded.
	maxMirrorDocs = 100_000
	// mirrorBatchChanges and maxMirrorBatches bound the catching up one
	// read does.
	mirrorBatchChanges = 1000
	maxMirrorBatches   = 10
)

// mirror answers reads in a region other than the home from the local
// copy of the collections' change feeds: the newest event per document.
// What it answers may be stale (the feed lags the home by the replication
// delay); a document it does not know is read from the home.
type mirror struct {
	src FeedReader

	mu   sync.Mutex
	cols map[Ref]*mirrorCol
}

type mirrorCol struct {
	mu       sync.Mutex
	next     uint64
	complete bool // the feed held its first event when mirroring began
	full     bool // past maxMirrorDocs: given up
	docs     map[string]mirrorDoc
}

type mirrorDoc struct {
	rev       string
	doc       json.RawMessage
	expiresAt uint64
}

func newMirror(src FeedReader) *mirror {
	return &mirror{src: src, cols: map[Ref]*mirrorCol{}}
}

// get returns the document as the local feed has it (hidden once expired
// by nowMs). known is false when the mirror cannot answer (no local feed,
// trimmed feed without the key, too many documents): the caller reads
// from the home.
func (m *mirror) get(ref Ref, key string, nowMs uint64) (res OpResult, known bool, err error) {
	c := m.col(ref)
	if c == nil {
		return OpResult{}, false, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 0; i < maxMirrorBatches && !c.full; i++ {
		changes, next, end, complete, ok, err := m.src.ReadChanges(ref, c.next, mirrorBatchChanges)
		if err != nil || !ok {
			return OpResult{}, false, err
		}
		if c.next == 0 && len(c.docs) == 0 {
			c.complete = complete
		}
		for _, ch := range changes {
			if ch.Deleted {
				delete(c.docs, ch.Key)
			} else {
				c.docs[ch.Key] = mirrorDoc{rev: ch.Rev, doc: ch.Doc, expiresAt: ch.ExpiresAt}
			}
		}
		c.next = next
		if len(c.docs) > maxMirrorDocs {
			c.full, c.docs = true, nil
		}
		if next >= end || len(changes) == 0 {
			break
		}
	}
	if c.full {
		return OpResult{}, false, nil
	}
	d, found := c.docs[key]
	if !found && !c.complete {
		return OpResult{}, false, nil
	}
	found = found && (d.expiresAt == 0 || d.expiresAt > nowMs)
	res = OpResult{Key: key, ID: ref.Collection + "/" + key, Found: found}
	if found {
		res.Rev, res.Doc, res.ExpiresAt = d.rev, d.doc, d.expiresAt
	}
	return res, true, nil
}

func (m *mirror) col(ref Ref) *mirrorCol {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.cols[ref]; ok {
		return c
	}
	if len(m.cols) >= maxMirroredCollections {
		return nil
	}
	c := &mirrorCol{docs: map[string]mirrorDoc{}}
	m.cols[ref] = c
	return c
}

// forget drops a collection's mirror (dropped or recreated).
func (m *mirror) forget(ref Ref) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.cols, ref)
}
