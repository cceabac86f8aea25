package service

import (
	"fmt"

	"github.com/causeway/causeway/collections/query"
)

// Each calls fn with every visible document of a collection (its JSON,
// valid during the call only), in key order, from one snapshot: what a
// checksum or the figures of a collection read. It stops at fn's first
// error, and fails with ErrQueryTimeout past the query time limit
// (Options.MaxQueryTime), as a query would.
func (s *Service) Each(ref Ref, fn func(doc []byte) error) error {
	c, err := s.collection(ref)
	if err != nil {
		return err
	}
	snap := s.store.Snapshot()
	defer snap.Close()
	it, err := snap.Docs(c.info.Load().ID, query.Access{Kind: query.FullScan}, s.now())
	if err != nil {
		return err
	}
	defer it.Close()
	d := &deadlineIter{it: it, now: s.opts.Now, deadline: s.opts.Now().Add(s.opts.MaxQueryTime)}
	for {
		doc, ok, err := d.Next()
		if err != nil {
			return fmt.Errorf("%s: %w", ref.Collection, err)
		}
		if !ok {
			return nil
		}
		if err := fn(doc); err != nil {
			return err
		}
	}
}
