package spot

import "github.com/causeway/causeway/internal/pebblekv"

// WritesRefused says why this node's replicas refuse SPOT writes (the disk
// below the reserve), nil when they take them or it runs none.
func (s *Service) WritesRefused() error {
	if s == nil || s.group == nil {
		return nil
	}
	return pebblekv.SpaceError(s.cfg.DiskFS, s.cfg.DataDir, s.cfg.ReserveBytes)
}
