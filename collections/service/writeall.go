package service

import (
	"fmt"

	"github.com/causeway/causeway/collections/store"
)

// WriteAll is Write where either every write applies or none does (an
// import with complete=true). Under the collection's write lock it first
// checks every write against the documents' newest states and only when
// none is refused writes them all, the lock held throughout, so no other
// write comes in between. A key written twice in one request is refused
// (the check would not see the first write). When one write is refused
// nothing is written, applied is false, and the results hold the
// refusals (the other results carry only their key). Inserts without a
// key get theirs before the check.
func (s *Service) WriteAll(ref Ref, ws []Write) (results []Result, applied bool, err error) {
	if len(ws) > MaxWritesPerRequest {
		return nil, false, fmt.Errorf("%w: %d documents in one request, the limit is %d", ErrTooLarge, len(ws), MaxWritesPerRequest)
	}
	c, err := s.collection(ref)
	if err != nil {
		return nil, false, err
	}
	ws = append([]Write(nil), ws...)
	for i := range ws {
		if ws[i].Kind == Insert && ws[i].Key == "" {
			ws[i].Key = s.newKey()
		}
	}
	return c.writeMode(ws, true)
}

// check plans every write without applying any (the caller holds mu): ok
// when none is refused, else the results with the refusals.
func (c *collection) check(info *store.CollectionInfo, ws []Write, now uint64) ([]Result, bool) {
	results := make([]Result, len(ws))
	seen := make(map[string]bool, len(ws))
	ok, ops := true, 0
	for i := range ws {
		w := &ws[i]
		results[i].Key = w.Key
		if seen[w.Key] {
			results[i].Err = fmt.Errorf("%w: key %q is written twice in a request that must apply as a whole", ErrBadRequest, w.Key)
			ok = false
			continue
		}
		seen[w.Key] = true
		pl := c.plan(info, w, nil, now, ops)
		if pl.res.Err != nil {
			results[i].Err = pl.res.Err
			ok = false
			continue
		}
		ops += len(pl.ops)
	}
	return results, ok
}
