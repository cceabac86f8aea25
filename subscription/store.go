package subscription

import "sync"

// Store persists cursors durably, keyed by subscription.
type Store interface {
	// Load returns the stored cursor, or ok=false if none is stored.
	Load(key string) (st CursorState, ok bool, err error)
	// Save stores the cursor durably before returning.
	Save(key string, st CursorState) error
	// Delete forgets the cursor; deleting a missing key is not an error.
	Delete(key string) error
}

// MemStore is a Store in memory, for non-persistent streams and tests.
type MemStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{m: map[string][]byte{}} }

// Load implements Store.
func (s *MemStore) Load(key string) (CursorState, bool, error) {
	s.mu.Lock()
	b, ok := s.m[key]
	s.mu.Unlock()
	if !ok {
		return CursorState{}, false, nil
	}
	var st CursorState
	err := st.UnmarshalBinary(b)
	return st, err == nil, err
}

// Save implements Store. It stores the encoded form, so the cap on acked
// ranges applies as it does on disk.
func (s *MemStore) Save(key string, st CursorState) error {
	b, err := st.MarshalBinary()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.m[key] = b
	s.mu.Unlock()
	return nil
}

// Delete implements Store.
func (s *MemStore) Delete(key string) error {
	s.mu.Lock()
	delete(s.m, key)
	s.mu.Unlock()
	return nil
}
