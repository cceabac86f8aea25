package service

import (
	"fmt"
	"slices"
	"strings"

	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/query"
	"github.com/causeway/causeway/collections/store"
)

// Document returns a visible document's JSON (_key, _id, _rev first) and
// its revision.
func (s *Service) Document(ref Ref, key string) ([]byte, string, error) {
	r, err := s.rendered(ref, key)
	return r.JSON, r.Rev, err
}

// ExpiresAt returns a visible document's expiry in Unix ms (0: none).
func (s *Service) ExpiresAt(ref Ref, key string) (uint64, error) {
	r, err := s.rendered(ref, key)
	return r.ExpiresAt, err
}

func (s *Service) rendered(ref Ref, key string) (store.Rendered, error) {
	c, err := s.collection(ref)
	if err != nil {
		return store.Rendered{}, err
	}
	if err := collections.ValidateKey(key); err != nil {
		return store.Rendered{}, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	r, found, err := s.store.Rendered(c.info.Load().ID, key)
	if err != nil {
		return store.Rendered{}, err
	}
	if !found || !r.Visible(s.now()) {
		return store.Rendered{}, fmt.Errorf("%w: %s/%s", ErrDocumentNotFound, ref.Collection, key)
	}
	return r, nil
}

func (s *Service) visibleDoc(ref Ref, key string) (*collections.Doc, error) {
	c, err := s.collection(ref)
	if err != nil {
		return nil, err
	}
	if err := collections.ValidateKey(key); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	d, err := s.store.Doc(c.info.Load().ID, key)
	if err != nil {
		return nil, err
	}
	if !store.Visible(d, s.now()) {
		return nil, fmt.Errorf("%w: %s/%s", ErrDocumentNotFound, ref.Collection, key)
	}
	return d, nil
}

// Conflicts lists the values that lost to concurrent writes of a visible
// document's attributes.
func (s *Service) Conflicts(ref Ref, key string) ([]collections.Conflict, error) {
	d, err := s.visibleDoc(ref, key)
	if err != nil {
		return nil, err
	}
	return d.Conflicts(), nil
}

// Count returns the number of visible documents.
func (s *Service) Count(ref Ref) (int64, error) {
	c, err := s.collection(ref)
	if err != nil {
		return 0, err
	}
	snap := s.store.Snapshot()
	defer snap.Close()
	it, err := snap.Docs(c.info.Load().ID, query.Access{Kind: query.FullScan}, s.now())
	if err != nil {
		return 0, err
	}
	defer it.Close()
	var n int64
	for {
		_, ok, err := it.Next()
		if err != nil {
			return 0, err
		}
		if !ok {
			return n, nil
		}
		n++
	}
}

// truncateBatchDocs bounds the deletes of one truncate step.
const truncateBatchDocs = 1000

// Truncate deletes every document (as delete ops, so it replicates like
// any write).
func (s *Service) Truncate(ref Ref) error {
	c, err := s.collection(ref)
	if err != nil {
		return err
	}
	after := ""
	for {
		keys, err := s.keysAfter(c, after, truncateBatchDocs)
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			return nil
		}
		ws := make([]Write, len(keys))
		for i, k := range keys {
			ws[i] = Write{Kind: deleteIfExists, Key: k}
		}
		results, err := c.write(ws)
		if err != nil {
			return err
		}
		for _, r := range results {
			if r.Err != nil {
				return r.Err
			}
		}
		after = keys[len(keys)-1]
	}
}

// keysAfter lists up to n visible keys greater than after.
func (s *Service) keysAfter(c *collection, after string, n int) ([]string, error) {
	snap := s.store.Snapshot()
	defer snap.Close()
	a := query.Access{Kind: query.KeyRange}
	if after != "" {
		a.Lo = append([]byte(after), 0)
	}
	it, err := snap.Docs(c.info.Load().ID, a, s.now())
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var keys []string
	for len(keys) < n {
		_, ok, err := it.Next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		keys = append(keys, it.Key())
	}
	return keys, nil
}

func sortInfos(infos []store.CollectionInfo) {
	slices.SortFunc(infos, func(a, b store.CollectionInfo) int { return strings.Compare(a.Name, b.Name) })
}
