package store

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/causeway/causeway/collections"
)

// Rendered is a document as readers see it.
type Rendered struct {
	// JSON is the document with _key, _id and _rev.
	JSON []byte
	Rev  string
	// ExpiresAt is the expiry in Unix ms (0: none).
	ExpiresAt uint64
}

// Visible reports whether the document has not expired at nowMs.
func (r *Rendered) Visible(nowMs uint64) bool { return r.ExpiresAt == 0 || r.ExpiresAt > nowMs }

// appendRendered encodes a rendered document: expiry (8 bytes), the
// revision (length-prefixed), then the JSON.
func appendRendered(dst []byte, d *collections.Doc, doc []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, d.ExpiresAt())
	rev := d.Rev()
	dst = append(dst, byte(len(rev)))
	dst = append(dst, rev...)
	return append(dst, doc...)
}

// decodeRendered decodes a rendered record; the JSON aliases b.
func decodeRendered(b []byte) (Rendered, error) {
	if len(b) < 9 || len(b) < 9+int(b[8]) {
		return Rendered{}, fmt.Errorf("%w: rendered document of %d bytes", ErrCorrupt, len(b))
	}
	n := int(b[8])
	return Rendered{ExpiresAt: binary.BigEndian.Uint64(b), Rev: string(b[9 : 9+n]), JSON: b[9+n:]}, nil
}

// Rendered returns a document as readers see it, or false when it does not
// exist (expiry is the caller's to check).
func (s *Store) Rendered(id uint64, key string) (Rendered, bool, error) {
	v, err := get(s.db, renderedKey(id, key))
	if err != nil {
		return Rendered{}, false, fmt.Errorf("store: read document %s: %w", key, err)
	}
	if v == nil {
		return Rendered{}, false, nil
	}
	r, err := decodeRendered(v)
	return r, err == nil, err
}

// renderedIn reads a rendered document from a snapshot (a copy).
func renderedIn(r pebble.Reader, id uint64, key string) (Rendered, bool, error) {
	v, err := get(r, renderedKey(id, key))
	if err != nil || v == nil {
		return Rendered{}, false, err
	}
	rd, err := decodeRendered(v)
	return rd, err == nil, err
}
