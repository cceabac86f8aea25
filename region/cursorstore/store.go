package cursorstore

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/subscription"
)

// KeyPrefix namespaces cursors in the region's key-value map.
const KeyPrefix = "subscription/"

// opTimeout bounds one read or proposal (the metadata group bounds its own
// requests too; this bounds any Metadata).
const opTimeout = 10 * time.Second

// Metadata is what the store needs of the region's metadata group:
// linearizable reads of one key and proposals. *meta.Group satisfies it.
type Metadata interface {
	Read(ctx context.Context, key string) (value string, ok bool, err error)
	Propose(ctx context.Context, c region.Command) error
}

// Store is a subscription.Store keeping cursors in the region's metadata.
type Store struct {
	md    Metadata
	stats stats
}

type stats struct {
	saves, truncated, droppedRanges atomic.Uint64
}

// Stats are counters of a Store since it was made.
type Stats struct {
	// Saves is the number of cursors committed.
	Saves uint64
	// Truncated is how many of them dropped acknowledged ranges to fit
	// (Fit), and DroppedRanges how many ranges they dropped in all.
	Truncated, DroppedRanges uint64
}

var _ subscription.Store = (*Store)(nil)

// New returns a Store over md.
func New(md Metadata) *Store { return &Store{md: md} }

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	return Stats{Saves: s.stats.saves.Load(), Truncated: s.stats.truncated.Load(), DroppedRanges: s.stats.droppedRanges.Load()}
}

// Load implements subscription.Store with a linearizable read.
func (s *Store) Load(key string) (subscription.CursorState, bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	v, ok, err := s.md.Read(ctx, KeyPrefix+key)
	if err != nil {
		return subscription.CursorState{}, false, fmt.Errorf("cursorstore: load cursor %s: %w", key, err)
	}
	if !ok {
		return subscription.CursorState{}, false, nil
	}
	st, err := decode(v)
	if err != nil {
		return subscription.CursorState{}, false, fmt.Errorf("cursorstore: load cursor %s: %w", key, err)
	}
	return st, true, nil
}

// Save implements subscription.Store: it returns once the cursor (fitted
// to a metadata command, see Fit) is committed in the region.
func (s *Store) Save(key string, st subscription.CursorState) error {
	full := KeyPrefix + key
	v, dropped, err := encode(full, st)
	if err != nil {
		return fmt.Errorf("cursorstore: save cursor %s: %w", key, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := s.md.Propose(ctx, region.Command{Kind: region.KindPutKV, Key: full, Value: v}); err != nil {
		return fmt.Errorf("cursorstore: save cursor %s: %w", key, err)
	}
	s.stats.saves.Add(1)
	if dropped > 0 {
		s.stats.truncated.Add(1)
		s.stats.droppedRanges.Add(uint64(dropped))
	}
	return nil
}

// Delete implements subscription.Store; deleting a missing cursor is not
// an error.
func (s *Store) Delete(key string) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := s.md.Propose(ctx, region.Command{Kind: region.KindDeleteKV, Key: KeyPrefix + key}); err != nil {
		return fmt.Errorf("cursorstore: delete cursor %s: %w", key, err)
	}
	return nil
}

// DeletePrefix deletes every cursor whose key begins with prefix: the
// cursors of a deleted stream, with the prefix "cursor/{tenant}/{fabric}/
// {stream}/" (the trailing slash keeps "{stream}2" apart). An empty prefix
// is refused.
func (s *Store) DeletePrefix(prefix string) error {
	if prefix == "" {
		return errors.New("cursorstore: delete cursors: an empty prefix would delete every cursor of the region")
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := s.md.Propose(ctx, region.Command{Kind: region.KindDeletePrefix, Key: KeyPrefix + prefix}); err != nil {
		return fmt.Errorf("cursorstore: delete cursors %s*: %w", prefix, err)
	}
	return nil
}

// encode returns the value stored for st under the full key: the base64 of
// its binary encoding, fitted so that the key and value make one metadata
// command; and how many ranges it dropped.
func encode(fullKey string, st subscription.CursorState) (string, int, error) {
	if err := (region.Command{Kind: region.KindPutKV, Key: fullKey}).Validate(); err != nil {
		return "", 0, err // the key breaks the region's rules (too long, NUL, not UTF-8)
	}
	room := region.MaxKVEntryBytes - region.KVEntryBytes(fullKey, "") // base64 is never escaped
	fitted, dropped, err := Fit(st, base64.StdEncoding.DecodedLen(room))
	if err != nil {
		return "", 0, err
	}
	b, err := fitted.MarshalBinary()
	if err != nil {
		return "", 0, err
	}
	return base64.StdEncoding.EncodeToString(b), dropped, nil
}

func decode(v string) (subscription.CursorState, error) {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return subscription.CursorState{}, fmt.Errorf("%w: not base64: %v", subscription.ErrCorruptCursor, err)
	}
	var st subscription.CursorState
	if err := st.UnmarshalBinary(b); err != nil {
		return subscription.CursorState{}, err
	}
	return st, nil
}
