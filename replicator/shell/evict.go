package shell

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/replicator"
)

// evictedFile lists the regions an operator evicted; it is read on start.
const evictedFile = "evicted.json"

type evictedState struct {
	Evicted []string `json:"evicted"`
}

// loadEvicted reads the evicted regions (none when the file is missing).
func loadEvicted(dir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, evictedFile))
	if isNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("shell: read evicted regions: %w", err)
	}
	var st evictedState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("shell: %s: %v: %w", filepath.Join(dir, evictedFile), err, ErrJournal)
	}
	return st.Evicted, nil
}

// Evict removes region from this node's active membership, durably: this
// node stops sending to it and accepting from it, and it no longer pins
// causal stability. Operators evict a region that stays away too long, on
// every other region. The ops of the region already delivered somewhere
// keep flowing (through relays) so that the others converge.
func (s *Shell) Evict(region string) error {
	if region == s.self || !slices.Contains(s.regions, region) {
		return fmt.Errorf("shell: evict %q: %w", region, replicator.ErrUnknownRegion)
	}
	s.evictMu.Lock()
	defer s.evictMu.Unlock()
	if slices.Contains(s.evicted, region) {
		return nil
	}
	next := append(slices.Clone(s.evicted), region)
	slices.Sort(next)
	if err := s.records.saveEvicted(next); err != nil {
		return err
	}
	s.evicted = next
	var eerr error
	if err := s.control(func(time.Time) { eerr = s.engine.EvictRegion(region) }); err != nil {
		return err
	}
	if eerr != nil {
		return eerr
	}
	s.log.Warn("region evicted", zap.String("evicted", region))
	return nil
}

// Evicted returns the evicted regions.
func (s *Shell) Evicted() []string {
	s.evictMu.Lock()
	defer s.evictMu.Unlock()
	return slices.Clone(s.evicted)
}
