package link

import (
	"fmt"
	"slices"
)

// Mesh is the set of directed links between named endpoints (regions).
type Mesh struct {
	names []string
	links map[[2]string]*Link
}

// NewMesh returns a full mesh of links with cfg between names; link i's seed
// is derived from seed and the pair, so meshes are reproducible.
func NewMesh(names []string, cfg Config, seed uint64) (*Mesh, error) {
	m := &Mesh{names: slices.Clone(names), links: make(map[[2]string]*Link)}
	for i, a := range names {
		for j, b := range names {
			if a == b {
				continue
			}
			l, err := New(cfg, seed*1_000_003+uint64(i*len(names)+j))
			if err != nil {
				return nil, err
			}
			m.links[[2]string{a, b}] = l
		}
	}
	return m, nil
}

// Link returns the link from -> to, or nil when there is none.
func (m *Mesh) Link(from, to string) *Link { return m.links[[2]string{from, to}] }

// Names returns the endpoints.
func (m *Mesh) Names() []string { return slices.Clone(m.names) }

// SetAll applies cfg to every link (partitions included: use Heal after).
func (m *Mesh) SetAll(cfg Config) error {
	for _, l := range m.links {
		if err := l.SetConfig(cfg); err != nil {
			return err
		}
	}
	return nil
}

// Cut partitions the single direction from -> to (asymmetric partition).
func (m *Mesh) Cut(from, to string) error {
	l := m.Link(from, to)
	if l == nil {
		return fmt.Errorf("link: no link %s -> %s: %w", from, to, ErrInvalidConfig)
	}
	l.SetDown(true)
	return nil
}

// Partition cuts both directions between every member of a and every
// member of b (symmetric partition).
func (m *Mesh) Partition(a, b []string) error {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				continue
			}
			if err := m.Cut(x, y); err != nil {
				return err
			}
			if err := m.Cut(y, x); err != nil {
				return err
			}
		}
	}
	return nil
}

// Isolate cuts every link to and from name.
func (m *Mesh) Isolate(name string) error {
	return m.Partition([]string{name}, m.names)
}

// Heal brings every link back up.
func (m *Mesh) Heal() {
	for _, l := range m.links {
		l.SetDown(false)
	}
}

// Reachable reports whether from -> to is up.
func (m *Mesh) Reachable(from, to string) bool {
	l := m.Link(from, to)
	return l != nil && !l.Config().Down
}
