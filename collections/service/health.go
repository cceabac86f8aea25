package service

import "github.com/causeway/causeway/internal/pebblekv"

// StoreHealth is the state of the collections' view store: whether it
// accepts writes, and why not (a full disk; see internal/pebblekv).
func (s *Service) StoreHealth() pebblekv.Health { return s.store.Health() }
