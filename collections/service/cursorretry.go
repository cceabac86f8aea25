package service

import (
	"fmt"
	"strconv"
)

// numberBatch gives a batch its place in the cursor's sequence: while more
// follow the answer names the next batch (ArangoDB's nextBatchId), and the
// cursor keeps the batch so that a client that lost the answer can fetch
// it again (POST /_api/cursor/{id}/{batchId}). Callers hold c.mu.
func (c *cursor) numberBatch(out *Batch, err error) {
	if err != nil {
		return
	}
	c.batchID++
	if out.HasMore {
		out.NextBatchID = strconv.Itoa(c.batchID + 1)
	}
	out.Count = c.count
	if c.warnings != nil {
		out.Extra.Warnings = c.warnings()
	}
	saved := *out
	c.last = &saved
}

// NextBatchAt answers ArangoDB's POST /_api/cursor/{id}/{batchId}: the
// batch after the one answered last when batchId is its nextBatchId, or the
// last one again when batchId is its own (a retry after a lost answer).
// The last batch of a cursor closes it, so it cannot be fetched again.
func (s *Service) NextBatchAt(tenant, fabric, id, batchID string) (Batch, error) {
	if err := s.checkFabric(tenant, fabric); err != nil {
		return Batch{}, err
	}
	n, err := strconv.Atoi(batchID)
	if err != nil || n < 1 {
		return Batch{}, fmt.Errorf("%w: batch id %q: want a positive integer (the nextBatchId of an answer)", ErrBadRequest, batchID)
	}
	c, err := s.cursors.get(id, tenant, fabric, s.opts.Now())
	if err != nil {
		return Batch{}, err
	}
	c.mu.Lock()
	cur, last := c.batchID, c.last
	c.mu.Unlock()
	switch {
	case n == cur && last != nil:
		b := *last
		b.ID = c.id
		return b, nil
	case n == cur+1:
		return s.fill(c, true)
	}
	return Batch{}, fmt.Errorf("%w: batch %d of cursor %s: the last batch answered is %d, the next %d", ErrBadRequest, n, id, cur, cur+1)
}
