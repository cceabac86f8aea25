package replicator

import (
	"cmp"
	"fmt"
	"time"
)

// Timestamp is a hybrid logical clock reading: a wall component in Unix
// nanoseconds (the highest physical time seen) and a logical counter that
// orders events sharing a wall value. It is used only to break ties between
// concurrent operations; causality is tracked by vectors.
type Timestamp struct {
	WallNanos int64
	Logical   uint32
}

// Compare orders timestamps by wall then logical component (-1, 0, +1).
func (t Timestamp) Compare(u Timestamp) int {
	if c := cmp.Compare(t.WallNanos, u.WallNanos); c != 0 {
		return c
	}
	return cmp.Compare(t.Logical, u.Logical)
}

// IsZero reports whether t is the zero timestamp.
func (t Timestamp) IsZero() bool { return t == Timestamp{} }

// String renders t as wall.logical.
func (t Timestamp) String() string { return fmt.Sprintf("%d.%d", t.WallNanos, t.Logical) }

// Clock is a hybrid logical clock (Kulkarni et al.). It is pure: physical
// time is passed in by the caller on every call. The zero value is ready to
// use with no maximum offset check.
type Clock struct {
	last Timestamp
	// maxOffset bounds how far a remote timestamp may be ahead of the local
	// physical time before Observe refuses it; 0 disables the check.
	maxOffset time.Duration
}

// NewClock returns a clock that starts after last (for a restart, the
// highest timestamp found in the journals) and refuses remote timestamps
// more than maxOffset ahead of physical time (0: no check).
func NewClock(last Timestamp, maxOffset time.Duration) Clock {
	return Clock{last: last, maxOffset: maxOffset}
}

// Last returns the highest timestamp issued or observed.
func (c *Clock) Last() Timestamp { return c.last }

// Now returns a timestamp for a local event at physical time physNanos,
// strictly greater than every timestamp issued or observed before.
func (c *Clock) Now(physNanos int64) Timestamp {
	if physNanos > c.last.WallNanos {
		c.last = Timestamp{WallNanos: physNanos}
		return c.last
	}
	c.bump()
	return c.last
}

// Observe merges a remote timestamp so that later local timestamps are
// greater than it, and returns the clock's new reading. A remote timestamp
// further than the maximum offset ahead of physNanos leaves the clock
// unchanged and returns ErrClockSkew.
func (c *Clock) Observe(remote Timestamp, physNanos int64) (Timestamp, error) {
	if c.maxOffset > 0 && remote.WallNanos > physNanos+int64(c.maxOffset) {
		return c.last, fmt.Errorf("hlc: remote %s vs physical %d (max offset %s): %w",
			remote, physNanos, c.maxOffset, ErrClockSkew)
	}
	switch {
	case physNanos > c.last.WallNanos && physNanos > remote.WallNanos:
		c.last = Timestamp{WallNanos: physNanos}
	case remote.Compare(c.last) > 0:
		c.last = remote
		c.bump()
	default:
		c.bump()
	}
	return c.last, nil
}

// bump advances the logical component, spilling into the wall component on
// overflow so the clock never goes backwards.
func (c *Clock) bump() {
	if c.last.Logical == ^uint32(0) {
		c.last = Timestamp{WallNanos: c.last.WallNanos + 1}
		return
	}
	c.last.Logical++
}
