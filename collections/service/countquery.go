package service

import (
	"errors"
	"fmt"
	"time"
)

// QueryCounted is Query (SQL) with ArangoDB's count option: the query runs
// to its end before the first batch, which answers the total in Count.
func (s *Service) QueryCounted(tenant, fabric string, req QueryRequest) (Batch, error) {
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
	cur.timer.deadline = time.Now().Add(s.opts.MaxQueryTime)
	all, err := materialize(p.Run(cur.timer, s.opts.MaxMemoryRows).Next, s.opts.MaxMemoryRows)
	if err != nil {
		cur.close()
		if errors.Is(err, ErrQueryTimeout) {
			return Batch{}, fmt.Errorf("%w (%s): narrow the query or add an index", ErrQueryTimeout, s.opts.MaxQueryTime)
		}
		return Batch{}, err
	}
	n := int64(len(all))
	cur.count = &n
	cur.next = sliceRows(all)
	return s.fill(cur, false)
}
