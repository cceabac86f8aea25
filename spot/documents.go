package spot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.uber.org/zap"
)

// WriteOptions tune a single-document write.
type WriteOptions struct {
	// IfRev, when set, must be the document's current _rev.
	IfRev string
	// ExpiresAt is an absolute expiry in Unix ms (0: none).
	ExpiresAt uint64
	// KeepNull and MergeObjects tune Patch (default true).
	KeepNull, MergeObjects *bool
	// RequestID makes a retried write safe (see TxnOptions).
	RequestID string
}

// Get returns a document (ErrDocumentNotFound when it does not exist): a
// linearizable read.
func (s *Service) Get(ctx context.Context, ref Ref, key string) (OpResult, error) {
	res, err := s.single(ctx, ref, Op{Kind: Read, Key: key}, "")
	if err == nil && !res.Found {
		err = fmt.Errorf("%w: %s/%s", ErrDocumentNotFound, ref.Collection, key)
	}
	return res, err
}

// ReadOptions tune a single-document read.
type ReadOptions struct {
	// AllowStale lets a region other than the collection's home answer
	// from its own copy of the change feed when it can: no round trip to
	// the home, but possibly stale (by the replication lag).
	AllowStale bool
}

// GetWith returns a document; stale reports an answer from the local copy
// of the change feed rather than a linearizable read in the home.
func (s *Service) GetWith(ctx context.Context, ref Ref, key string, opts ReadOptions) (res OpResult, stale bool, err error) {
	if opts.AllowStale && s.mirror != nil {
		if err := ref.Validate(); err != nil {
			return OpResult{}, false, err
		}
		if err := validKey(key); err != nil {
			return OpResult{}, false, err
		}
		info, err := s.resolve(ctx, ref, false)
		if err != nil {
			return OpResult{}, false, err
		}
		// A node of the home region reads from the group, through its own
		// replica or another node's (Options.RegionNodes).
		if info.Home != s.cfg.Region || (s.group == nil && s.opts.RegionNodes == nil) {
			res, known, err := s.mirror.get(ref, key, uint64(s.cfg.Now().UnixMilli()))
			if err != nil {
				s.log.Debug("mirror read failed; reading from the home", zap.Stringer("collection", ref), zap.Error(err))
			}
			if known && err == nil {
				if !res.Found {
					return res, true, fmt.Errorf("%w: %s/%s (possibly stale: read from this region's copy of the change feed)", ErrDocumentNotFound, ref.Collection, key)
				}
				return res, true, nil
			}
		}
	}
	res, err = s.Get(ctx, ref, key)
	return res, false, err
}

// Insert creates a document. key "" takes doc's _key, or a generated key.
func (s *Service) Insert(ctx context.Context, ref Ref, key string, doc json.RawMessage, opts WriteOptions) (OpResult, error) {
	if key == "" {
		k, err := keyOf(doc)
		if err != nil {
			return OpResult{}, err
		}
		key = k
	}
	return s.single(ctx, ref, Op{Kind: Insert, Key: key, Doc: doc, ExpiresAt: opts.ExpiresAt}, opts.RequestID)
}

// Replace makes an existing document doc.
func (s *Service) Replace(ctx context.Context, ref Ref, key string, doc json.RawMessage, opts WriteOptions) (OpResult, error) {
	return s.single(ctx, ref, Op{Kind: Replace, Key: key, Doc: doc, IfRev: opts.IfRev, ExpiresAt: opts.ExpiresAt}, opts.RequestID)
}

// Patch updates an existing document with patch (see Update).
func (s *Service) Patch(ctx context.Context, ref Ref, key string, patch json.RawMessage, opts WriteOptions) (OpResult, error) {
	return s.single(ctx, ref, Op{Kind: Update, Key: key, Doc: patch, IfRev: opts.IfRev, ExpiresAt: opts.ExpiresAt,
		KeepNull: opts.KeepNull, MergeObjects: opts.MergeObjects}, opts.RequestID)
}

// Delete deletes an existing document; the result holds its last _rev.
func (s *Service) Delete(ctx context.Context, ref Ref, key string, opts WriteOptions) (OpResult, error) {
	res, err := s.single(ctx, ref, Op{Kind: Delete, Key: key, IfRev: opts.IfRev}, opts.RequestID)
	res.Rev = res.OldRev
	return res, err
}

// List returns up to limit documents (1..MaxListDocs, default 100) with
// keys after after, in key order; a linearizable read.
func (s *Service) List(ctx context.Context, ref Ref, after string, limit int) (*ListResult, error) {
	if err := ref.Validate(); err != nil {
		return nil, err
	}
	if limit == 0 {
		limit = 100
	}
	if limit < 0 || limit > MaxListDocs {
		return nil, fmt.Errorf("%w: limit %d, want 1 to %d", ErrBadRequest, limit, MaxListDocs)
	}
	info, err := s.resolve(ctx, ref, false)
	if err != nil {
		return nil, err
	}
	if info.Home != s.cfg.Region || !s.servesLocally() {
		return s.fwd.list(ctx, info.Home, ref, after, limit)
	}
	return s.listLocal(ctx, ref, after, limit)
}

func (s *Service) listLocal(ctx context.Context, ref Ref, after string, limit int) (*ListResult, error) {
	v, err := s.group.read(ctx, listQuery{ref: ref, after: after, limit: limit, nowMs: uint64(s.cfg.Now().UnixMilli())})
	if err != nil {
		return nil, err
	}
	return v.(*ListResult), nil
}

// KVEntry is a key/value entry. Value is any JSON value; ExpiresAt is Unix
// ms (0: none).
type KVEntry struct {
	Key       string          `json:"_key"`
	Value     json.RawMessage `json:"value"`
	ExpiresAt uint64          `json:"-"`
	Rev       string          `json:"_rev,omitempty"`
}

// GetKV returns a key/value entry (linearizable).
func (s *Service) GetKV(ctx context.Context, ref Ref, key string) (KVEntry, error) {
	e, _, err := s.GetKVWith(ctx, ref, key, ReadOptions{})
	return e, err
}

// GetKVWith returns a key/value entry; stale as for GetWith.
func (s *Service) GetKVWith(ctx context.Context, ref Ref, key string, opts ReadOptions) (KVEntry, bool, error) {
	if err := s.checkKeyValue(ctx, ref); err != nil {
		return KVEntry{}, false, err
	}
	res, stale, err := s.GetWith(ctx, ref, key, opts)
	if err != nil {
		return KVEntry{}, stale, err
	}
	if res.ExpiresAt != 0 && res.ExpiresAt <= uint64(s.cfg.Now().UnixMilli()) {
		return KVEntry{}, stale, fmt.Errorf("%w: %s/%s", ErrDocumentNotFound, ref.Collection, key)
	}
	var doc struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(res.Doc, &doc); err != nil {
		return KVEntry{}, stale, fmt.Errorf("%w: entry %s: %w", ErrInternal, key, err)
	}
	if doc.Value == nil {
		doc.Value = json.RawMessage("null")
	}
	return KVEntry{Key: key, Value: doc.Value, ExpiresAt: res.ExpiresAt, Rev: res.Rev}, stale, nil
}

// PutKV sets entries, all or none.
func (s *Service) PutKV(ctx context.Context, ref Ref, entries []KVEntry, requestID string) ([]OpResult, error) {
	if err := s.checkKeyValue(ctx, ref); err != nil {
		return nil, err
	}
	t := &Txn{}
	for _, e := range entries {
		if !json.Valid(e.Value) {
			return nil, fmt.Errorf("%w: entry %s: value is not valid JSON", ErrBadRequest, e.Key)
		}
		doc, _ := json.Marshal(map[string]json.RawMessage{"value": e.Value})
		t.Ops = append(t.Ops, Op{Kind: Put, Collection: ref.Collection, Key: e.Key, Doc: doc, ExpiresAt: e.ExpiresAt})
	}
	res, err := s.Transaction(ctx, ref.Tenant, ref.Fabric, t, TxnOptions{RequestID: requestID})
	if err != nil {
		return nil, err
	}
	return res.Results, nil
}

// DeleteKV deletes an entry.
func (s *Service) DeleteKV(ctx context.Context, ref Ref, key string) (OpResult, error) {
	if err := s.checkKeyValue(ctx, ref); err != nil {
		return OpResult{}, err
	}
	return s.Delete(ctx, ref, key, WriteOptions{})
}

func (s *Service) checkKeyValue(ctx context.Context, ref Ref) error {
	if err := ref.Validate(); err != nil {
		return err
	}
	info, err := s.resolve(ctx, ref, false)
	if err != nil {
		return err
	}
	if !info.KeyValue {
		return fmt.Errorf("%w: %s", ErrNotKeyValue, ref.Collection)
	}
	return nil
}

// single runs one operation as a transaction and answers with its cause
// when it is refused.
func (s *Service) single(ctx context.Context, ref Ref, op Op, requestID string) (OpResult, error) {
	op.Collection = ref.Collection
	res, err := s.Transaction(ctx, ref.Tenant, ref.Fabric, &Txn{Ops: []Op{op}}, TxnOptions{RequestID: requestID})
	if err != nil {
		var te *TxnError
		if errors.As(err, &te) {
			err = te.Err
		}
		return OpResult{Key: op.Key}, err
	}
	return res.Results[0], nil
}

// keyOf returns the _key member of a document ("" when absent).
func keyOf(doc json.RawMessage) (string, error) {
	var m struct {
		Key *json.RawMessage `json:"_key"`
	}
	if err := json.Unmarshal(doc, &m); err != nil {
		return "", fmt.Errorf("%w: a document must be a JSON object: %w", ErrBadRequest, err)
	}
	if m.Key == nil {
		return "", nil
	}
	var key string
	if err := json.Unmarshal(*m.Key, &key); err != nil {
		return "", fmt.Errorf("%w: _key must be a string", ErrBadRequest)
	}
	return key, nil
}
