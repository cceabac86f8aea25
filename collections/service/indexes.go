package service

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/store"
)

// maxIndexesPerCollection bounds the secondary indexes of a collection.
const maxIndexesPerCollection = 32

// maxIndexPathDepth bounds the names of an index path (the reducer's limit).
const maxIndexPathDepth = 32

// CreateIndex creates a persistent index on one attribute path (names
// joined by '.') and fills it. An index on the same path is returned as is
// (created false). Writes to the collection wait while it fills. In a
// multi-region node the index is created in every region.
func (s *Service) CreateIndex(ref Ref, name, field string) (store.IndexInfo, bool, error) {
	r := s.replication()
	if r == nil {
		return s.createIndex(ref, name, field)
	}
	if err := checkIndexField(field); err != nil {
		return store.IndexInfo{}, false, err
	}
	c, err := s.collection(ref)
	if err != nil {
		return store.IndexInfo{}, false, err
	}
	info := c.info.Load()
	if ix, found, err := findIndexSlot(info, name, field); err != nil || found {
		return ix, false, err
	}
	if name == "" {
		name = "idx_" + strconv.FormatUint(uint64(info.NextIndexID), 10)
	}
	if err := collections.ValidateCollectionName(name); err != nil {
		return store.IndexInfo{}, false, fmt.Errorf("%w: index name: %w", ErrBadRequest, err)
	}
	if err := s.replicateMeta(r, &MetaEvent{Type: MetaCreateIndex, Tenant: ref.Tenant, Fabric: ref.Fabric, Collection: ref.Collection, Index: name, Field: field}); err != nil {
		return store.IndexInfo{}, false, err
	}
	if c, err = s.collection(ref); err != nil {
		return store.IndexInfo{}, false, err
	}
	for _, ix := range c.info.Load().Indexes {
		if ix.Field == field {
			return ix, true, nil
		}
	}
	return store.IndexInfo{}, false, fmt.Errorf("%w: index on %s dropped meanwhile", ErrIndexNotFound, field)
}

// findIndexSlot returns the index on field when there is one, and refuses
// a name taken by another field or a collection that has all its indexes.
func findIndexSlot(info *store.CollectionInfo, name, field string) (store.IndexInfo, bool, error) {
	for _, ix := range info.Indexes {
		if ix.Field == field {
			return ix, true, nil
		}
		if name != "" && ix.Name == name {
			return store.IndexInfo{}, false, fmt.Errorf("%w: index name %q is taken by the index on %s", ErrBadRequest, name, ix.Field)
		}
	}
	if len(info.Indexes) >= maxIndexesPerCollection {
		return store.IndexInfo{}, false, fmt.Errorf("%w: a collection has at most %d indexes", ErrBadRequest, maxIndexesPerCollection)
	}
	return store.IndexInfo{}, false, nil
}

func (s *Service) createIndex(ref Ref, name, field string) (store.IndexInfo, bool, error) {
	if err := checkIndexField(field); err != nil {
		return store.IndexInfo{}, false, err
	}
	c, err := s.collection(ref)
	if err != nil {
		return store.IndexInfo{}, false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.writable(); err != nil {
		return store.IndexInfo{}, false, err
	}
	info := *c.info.Load()
	if ix, found, err := findIndexSlot(&info, name, field); err != nil || found {
		return ix, false, err
	}
	ix := store.IndexInfo{ID: info.NextIndexID, Name: name, Field: field, CreatedAt: s.opts.Now().UnixMilli()}
	if ix.Name == "" {
		ix.Name = "idx_" + strconv.FormatUint(uint64(ix.ID), 10)
	}
	if err := collections.ValidateCollectionName(ix.Name); err != nil {
		return store.IndexInfo{}, false, fmt.Errorf("%w: index name: %w", ErrBadRequest, err)
	}
	// Let every published write reach the view before reading it.
	c.pending.Wait()
	if err := s.store.BuildIndex(&info, ix); err != nil {
		return store.IndexInfo{}, false, err
	}
	info.Indexes = append(slices.Clone(info.Indexes), ix)
	info.NextIndexID++
	if err := s.saveDescription(info); err != nil {
		_ = s.store.DropIndex(&info, ix)
		return store.IndexInfo{}, false, err
	}
	if err := s.store.UpdateCollection(info); err != nil {
		_ = s.store.DropIndex(&info, ix)
		return store.IndexInfo{}, false, err
	}
	c.info.Store(&info)
	c.log.Info("index created", zap.String("index", ix.Name), zap.String("field", field))
	return ix, true, nil
}

func checkIndexField(field string) error {
	if field == "_key" {
		return fmt.Errorf("%w: _key has the primary index already", ErrBadRequest)
	}
	names := strings.Split(field, ".")
	if field == "" || len(names) > maxIndexPathDepth {
		return fmt.Errorf("%w: index field %q: want 1 to %d attribute names joined by '.'", ErrBadRequest, field, maxIndexPathDepth)
	}
	for _, n := range names {
		if n == "" {
			return fmt.Errorf("%w: index field %q has an empty name", ErrBadRequest, field)
		}
		if err := collections.ValidateAttributeName(n); err != nil {
			return fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
	}
	return nil
}

// Indexes lists a collection's secondary indexes.
func (s *Service) Indexes(ref Ref) ([]store.IndexInfo, error) {
	c, err := s.collection(ref)
	if err != nil {
		return nil, err
	}
	return slices.Clone(c.info.Load().Indexes), nil
}

// DropIndex deletes a secondary index named by name or id (in every region
// of a multi-region node).
func (s *Service) DropIndex(ref Ref, nameOrID string) error {
	r := s.replication()
	if r == nil {
		return s.dropIndex(ref, nameOrID)
	}
	c, err := s.collection(ref)
	if err != nil {
		return err
	}
	info := c.info.Load()
	i := findIndex(info, nameOrID)
	if i < 0 {
		return fmt.Errorf("%w: %s/%s", ErrIndexNotFound, ref.Collection, nameOrID)
	}
	return s.replicateMeta(r, &MetaEvent{Type: MetaDropIndex, Tenant: ref.Tenant, Fabric: ref.Fabric, Collection: ref.Collection, Index: info.Indexes[i].Name})
}

func findIndex(info *store.CollectionInfo, nameOrID string) int {
	return slices.IndexFunc(info.Indexes, func(ix store.IndexInfo) bool {
		return ix.Name == nameOrID || strconv.FormatUint(uint64(ix.ID), 10) == nameOrID
	})
}

func (s *Service) dropIndex(ref Ref, nameOrID string) error {
	c, err := s.collection(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.writable(); err != nil {
		return err
	}
	info := *c.info.Load()
	i := findIndex(&info, nameOrID)
	if i < 0 {
		return fmt.Errorf("%w: %s/%s", ErrIndexNotFound, ref.Collection, nameOrID)
	}
	ix := info.Indexes[i]
	c.pending.Wait()
	info.Indexes = slices.Delete(slices.Clone(info.Indexes), i, i+1)
	if err := s.saveDescription(info); err != nil {
		return err
	}
	if err := s.store.UpdateCollection(info); err != nil {
		return err
	}
	c.info.Store(&info)
	return s.store.DropIndex(&info, ix)
}

// saveDescription writes a changed description (indexes) to the region's
// catalog, where the nodes serving the collection next read it; a no-op in
// a region of one. The node serving the collection is the only writer
// (under its write lock).
func (s *Service) saveDescription(info store.CollectionInfo) error {
	if !s.clustered() {
		return nil
	}
	return s.putCatalog(info)
}
