package service

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/causeway/causeway/collections/aql"
	"github.com/causeway/causeway/collections/query"
	"github.com/causeway/causeway/collections/store"
)

// QueryRequest is a query to run (ArangoDB's POST /_api/cursor body).
type QueryRequest struct {
	Query  string
	Params query.Params
	// BatchSize is the rows per batch (0: DefaultBatchSize).
	BatchSize int
	// TTL is how long the cursor lives idle (0: the service's CursorTTL).
	TTL time.Duration
}

func (s *Service) batchSize(n int) (int, error) {
	switch {
	case n == 0:
		return min(DefaultBatchSize, s.opts.MaxBatchSize), nil
	case n < 0 || n > s.opts.MaxBatchSize:
		return 0, fmt.Errorf("%w: batchSize %d: want 1 to %d", ErrBadRequest, n, s.opts.MaxBatchSize)
	}
	return n, nil
}

func (s *Service) cursorTTL(d time.Duration) (time.Duration, error) {
	switch {
	case d == 0:
		return s.opts.CursorTTL, nil
	case d < 0 || d > time.Hour:
		return 0, fmt.Errorf("%w: ttl %s: want up to an hour", ErrBadRequest, d)
	}
	return d, nil
}

// plan parses, binds and plans a query against its collection.
func (s *Service) plan(tenant, fabric, text string, params query.Params) (*query.Plan, *collection, error) {
	if err := s.checkFabric(tenant, fabric); err != nil {
		return nil, nil, err
	}
	q, err := query.Parse(text)
	if err != nil {
		return nil, nil, err
	}
	b, err := q.Bind(params)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.collection(Ref{Tenant: tenant, Fabric: fabric, Collection: q.Collection})
	if err != nil {
		return nil, nil, err
	}
	return b.Plan(c.info.Load().QueryIndexes()), c, nil
}

// Explain returns the plan a query would run with.
func (s *Service) Explain(tenant, fabric, text string, params query.Params) (query.Explanation, error) {
	p, _, err := s.plan(tenant, fabric, text, params)
	if err != nil {
		return query.Explanation{}, err
	}
	return p.Explain(), nil
}

// Query runs a query and returns its first batch; when more rows follow,
// the batch names a cursor for NextBatch.
func (s *Service) Query(tenant, fabric string, req QueryRequest) (Batch, error) {
	if aql.IsAQL(req.Query) {
		return s.QueryAQL(tenant, fabric, req, CursorOptions{})
	}
	size, err := s.batchSize(req.BatchSize)
	if err != nil {
		return Batch{}, err
	}
	ttl, err := s.cursorTTL(req.TTL)
	if err != nil {
		return Batch{}, err
	}
	p, c, err := s.plan(tenant, fabric, req.Query, req.Params)
	if err != nil {
		return Batch{}, err
	}
	explain := p.Explain()
	cur, err := s.openCursor(tenant, fabric, c, p.Access(), size, ttl)
	if err != nil {
		return Batch{}, err
	}
	cur.plan = &explain
	cur.next = p.Run(cur.timer, s.opts.MaxMemoryRows).Next
	return s.fill(cur, false)
}

// openCursor takes a snapshot and opens an iterator over one access path.
func (s *Service) openCursor(tenant, fabric string, c *collection, a query.Access, size int, ttl time.Duration) (*cursor, error) {
	snap := s.store.Snapshot()
	it, err := snap.Docs(c.info.Load().ID, a, s.now())
	if err != nil {
		_ = snap.Close()
		return nil, err
	}
	return &cursor{
		tenant: tenant, fabric: fabric, batchSize: size, ttl: ttl,
		snap: snap, it: it, timer: &deadlineIter{it: it, now: time.Now},
	}, nil
}

// Listing is a key/value listing request.
type Listing struct {
	// Offset skips entries; Limit bounds them (0: no limit).
	Offset, Limit int
	BatchSize     int
	// Values lists {"_key","value","expireAt"} objects rather than keys.
	Values bool
}

// List lists a key/value collection's live entries in key order, in
// batches with a cursor.
func (s *Service) List(ref Ref, l Listing) (Batch, error) {
	size, err := s.batchSize(l.BatchSize)
	if err != nil {
		return Batch{}, err
	}
	if l.Offset < 0 || l.Limit < 0 {
		return Batch{}, fmt.Errorf("%w: offset and limit must not be negative", ErrBadRequest)
	}
	c, err := s.collection(ref)
	if err != nil {
		return Batch{}, err
	}
	if !c.info.Load().KeyValue {
		return Batch{}, fmt.Errorf("%w: %s", ErrNotKeyValue, ref.Collection)
	}
	cur, err := s.openCursor(ref.Tenant, ref.Fabric, c, query.Access{Kind: query.FullScan}, size, s.opts.CursorTTL)
	if err != nil {
		return Batch{}, err
	}
	skipped, emitted := 0, 0
	cur.next = func() ([]byte, bool, error) {
		for {
			if l.Limit > 0 && emitted >= l.Limit {
				return nil, false, nil
			}
			doc, ok, err := cur.timer.Next()
			if err != nil || !ok {
				return nil, false, err
			}
			if skipped < l.Offset {
				skipped++
				continue
			}
			emitted++
			if !l.Values {
				return strconv.AppendQuote(nil, cur.it.Key()), true, nil
			}
			return kvEntry(cur.it.Key(), doc, cur.it.ExpiresAt())
		}
	}
	return s.fill(cur, false)
}

// KVEntry is the key/value form of a document.
type KVEntry struct {
	Key   string          `json:"_key"`
	Value json.RawMessage `json:"value"`
	// ExpireAt is the expiry in Unix seconds (-1: none), as Macrometa shows it.
	ExpireAt int64 `json:"expireAt"`
}

// kvEntry renders a document as its key/value entry.
func kvEntry(key string, doc []byte, expiresAt uint64) ([]byte, bool, error) {
	var d struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, false, fmt.Errorf("%w: document %s: %w", store.ErrCorrupt, key, err)
	}
	if d.Value == nil {
		d.Value = json.RawMessage("null")
	}
	b, err := json.Marshal(KVEntry{Key: key, Value: d.Value, ExpireAt: ExpireAtSeconds(expiresAt)})
	return b, err == nil, err
}

// ExpireAtSeconds converts an expiry in Unix ms to Macrometa's Unix seconds
// (-1: none), rounding up so an entry never shows as expired early.
func ExpireAtSeconds(ms uint64) int64 {
	if ms == 0 {
		return -1
	}
	return int64((ms + 999) / 1000)
}
