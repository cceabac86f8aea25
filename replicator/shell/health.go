package shell

import "github.com/causeway/causeway/internal/pebblekv"

// Health is the shell's state for /health.
type Health struct {
	OK      bool
	Error   string
	NoSpace bool
}

// Health reports whether replication works: not once a journal write
// failed (a full disk), with the error. A nil shell is healthy.
func (s *Shell) Health() Health {
	if s == nil {
		return Health{OK: true}
	}
	p := s.failed.Load()
	if p == nil {
		return Health{OK: true}
	}
	return Health{Error: (*p).Error(), NoSpace: pebblekv.IsNoSpace(*p)}
}
