package service

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/causeway/causeway/collections/aql"
	"github.com/causeway/causeway/collections/query"
	"github.com/causeway/causeway/collections/store"
)

// Batch is one batch of a cursor (ArangoDB's cursor response): the rows,
// whether more follow and, if so, the cursor id to fetch them with.
type Batch struct {
	Result  []json.RawMessage
	HasMore bool
	ID      string
	Extra   Extra
	// Count is the query's total rows, when the request asked for it.
	Count *int64
	// NextBatchID names the next batch while more follow; the batch just
	// answered can be fetched again under its own id (cursorretry.go).
	NextBatchID string
}

// Extra carries the plan and statistics of a query batch.
type Extra struct {
	Plan     *query.Explanation `json:"plan,omitempty"`
	Stats    Stats              `json:"stats"`
	Warnings []aql.Warning      `json:"warnings"`
}

// Stats are counts of one batch.
type Stats struct {
	ScannedDocs   int     `json:"scannedFull"`
	ExecutionTime float64 `json:"executionTime"`
	// FullCount is the rows before the query's last top-level LIMIT
	// (AQL's fullCount option).
	FullCount *int64 `json:"fullCount,omitempty"`
}

// cursor is a query (or listing) in progress: a snapshot, an iterator over
// it, and the function yielding the next row.
type cursor struct {
	id             string
	tenant, fabric string
	batchSize      int
	ttl            time.Duration
	plan           *query.Explanation

	mu      sync.Mutex // one fetch at a time
	expires time.Time  // under cursors.mu
	snap    *store.Snapshot
	it      *store.DocIter
	timer   *deadlineIter
	next    func() ([]byte, bool, error)
	peeked  []byte // a row read ahead to learn whether more follow
	closed  bool

	// AQL cursors (aqlquery.go) read several iterators: release closes
	// them, scanned counts their documents, warnings lists the query's.
	release  func()
	scanned  func() int
	warnings func() []aql.Warning
	count    *int64
	// batchID is the id of the batch answered last, last that batch
	// (cursorretry.go).
	batchID int
	last    *Batch
}

func (c *cursor) scannedDocs() int {
	if c.scanned != nil {
		return c.scanned()
	}
	return c.it.Scanned()
}

// pull returns the next row, the one read ahead first.
func (c *cursor) pull() ([]byte, bool, error) {
	if c.peeked != nil {
		row := c.peeked
		c.peeked = nil
		return row, true, nil
	}
	return c.next()
}

func (c *cursor) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	if c.it != nil {
		_ = c.it.Close()
	}
	if c.release != nil {
		c.release()
	}
	_ = c.snap.Close()
}

// deadlineIter fails a scan that runs past its deadline.
type deadlineIter struct {
	it       query.DocIter
	now      func() time.Time
	deadline time.Time
	n        int
}

// deadlineCheckEvery is how many documents pass between clock reads.
const deadlineCheckEvery = 256

func (d *deadlineIter) Next() ([]byte, bool, error) {
	d.n++
	if d.n%deadlineCheckEvery == 0 && d.now().After(d.deadline) {
		return nil, false, ErrQueryTimeout
	}
	return d.it.Next()
}

// cursors is the node's registry of open cursors.
type cursors struct {
	mu  sync.Mutex
	max int
	m   map[string]*cursor
}

func newCursors(max int) *cursors { return &cursors{max: max, m: map[string]*cursor{}} }

// add registers a cursor under a new id starting with prefix (the node's,
// in a region of several nodes), closing expired ones first.
func (cs *cursors) add(c *cursor, now time.Time, prefix string) error {
	cs.mu.Lock()
	expired := cs.expireLocked(now)
	if len(cs.m) >= cs.max {
		cs.mu.Unlock()
		closeAll(expired)
		return fmt.Errorf("%w: %d are open; fetch or delete some, or let them expire", ErrTooManyCursors, cs.max)
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	c.id = prefix + hex.EncodeToString(b[:])
	c.expires = now.Add(c.ttl)
	cs.m[c.id] = c
	cs.mu.Unlock()
	closeAll(expired)
	return nil
}

// get returns a live cursor of the tenant's fabric and extends its life.
func (cs *cursors) get(id, tenant, fabric string, now time.Time) (*cursor, error) {
	cs.mu.Lock()
	expired := cs.expireLocked(now)
	c, ok := cs.m[id]
	if ok && (c.tenant != tenant || c.fabric != fabric) {
		ok = false
	}
	if ok {
		c.expires = now.Add(c.ttl)
	}
	cs.mu.Unlock()
	closeAll(expired)
	if !ok {
		return nil, fmt.Errorf("%w: %q (it expires %s after its last use)", ErrCursorNotFound, id, DefaultCursorTTL)
	}
	return c, nil
}

// remove closes and forgets a cursor (a no-op when it is gone).
func (cs *cursors) remove(id string) bool {
	cs.mu.Lock()
	c, ok := cs.m[id]
	delete(cs.m, id)
	cs.mu.Unlock()
	if ok {
		c.close()
	}
	return ok
}

func (cs *cursors) expireLocked(now time.Time) []*cursor {
	var out []*cursor
	for id, c := range cs.m {
		if now.After(c.expires) {
			out = append(out, c)
			delete(cs.m, id)
		}
	}
	return out
}

func (cs *cursors) closeAll() {
	cs.mu.Lock()
	all := make([]*cursor, 0, len(cs.m))
	for id, c := range cs.m {
		all = append(all, c)
		delete(cs.m, id)
	}
	cs.mu.Unlock()
	closeAll(all)
}

func closeAll(cs []*cursor) {
	for _, c := range cs {
		c.close()
	}
}

// fill reads the cursor's next batch within the query time limit. A cursor
// with rows left is registered (first batch) or kept; an exhausted or failed
// one is closed and forgotten.
func (s *Service) fill(c *cursor, registered bool) (Batch, error) {
	start := time.Now()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return Batch{}, fmt.Errorf("%w: %q", ErrCursorNotFound, c.id)
	}
	c.timer.deadline = start.Add(s.opts.MaxQueryTime)
	scanned0 := c.scannedDocs()
	var out Batch
	bytes := 0
	var err error
	for len(out.Result) < c.batchSize && bytes < s.opts.MaxBatchBytes {
		var row []byte
		var ok bool
		row, ok, err = c.pull()
		if err != nil || !ok {
			break
		}
		out.Result = append(out.Result, row)
		bytes += len(row)
	}
	if err == nil && len(out.Result) > 0 {
		// Peek: a batch that ends exactly at the last row says so.
		out.HasMore = true
		var row []byte
		var ok bool
		row, ok, err = c.pull()
		if err == nil && ok {
			c.peeked = row
		} else {
			out.HasMore = false
		}
	}
	out.Extra = Extra{Plan: c.plan, Stats: Stats{ScannedDocs: c.scannedDocs() - scanned0, ExecutionTime: time.Since(start).Seconds()}}
	c.numberBatch(&out, err)
	c.mu.Unlock()
	if err != nil {
		s.dropCursor(c, registered)
		if errors.Is(err, ErrQueryTimeout) {
			return Batch{}, fmt.Errorf("%w (%s): narrow the query or add an index", ErrQueryTimeout, s.opts.MaxQueryTime)
		}
		return Batch{}, err
	}
	if !out.HasMore {
		s.dropCursor(c, registered)
		return out, nil
	}
	if !registered {
		if err := s.cursors.add(c, s.opts.Now(), s.cursorPrefix()); err != nil {
			c.close()
			return Batch{}, err
		}
	}
	out.ID = c.id
	return out, nil
}

func (s *Service) dropCursor(c *cursor, registered bool) {
	if registered {
		s.cursors.remove(c.id)
		return
	}
	c.close()
}

// NextBatch returns the next batch of an open cursor.
func (s *Service) NextBatch(tenant, fabric, id string) (Batch, error) {
	if err := s.checkFabric(tenant, fabric); err != nil {
		return Batch{}, err
	}
	c, err := s.cursors.get(id, tenant, fabric, s.opts.Now())
	if err != nil {
		return Batch{}, err
	}
	return s.fill(c, true)
}

// DeleteCursor closes an open cursor.
func (s *Service) DeleteCursor(tenant, fabric, id string) error {
	if err := s.checkFabric(tenant, fabric); err != nil {
		return err
	}
	c, err := s.cursors.get(id, tenant, fabric, s.opts.Now())
	if err != nil {
		return err
	}
	s.cursors.remove(c.id)
	return nil
}
