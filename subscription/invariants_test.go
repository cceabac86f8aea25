package subscription

import (
	"fmt"
	"slices"
)

// checkInvariants verifies the Dispatcher's internal consistency; script and
// property tests call it after every step.
func (d *Dispatcher) checkInvariants() error {
	if d.markDelete < d.start && d.markDelete != d.end {
		return fmt.Errorf("mark-delete %d below log start %d", d.markDelete, d.start)
	}
	if d.readPos < d.markDelete {
		return fmt.Errorf("read position %d below mark-delete %d", d.readPos, d.markDelete)
	}
	if err := (CursorState{MarkDelete: d.markDelete, Acked: d.acked.rs}).Validate(); err != nil {
		return err
	}
	for off, m := range d.msgs {
		if d.IsAcked(off) {
			return fmt.Errorf("offset %d is acked but still tracked (loc %d)", off, m.loc)
		}
		if off >= d.readPos {
			return fmt.Errorf("offset %d tracked at or past read position %d", off, d.readPos)
		}
		if m.loc == locOutstanding {
			c := d.consumers[m.consumer]
			if c == nil {
				return fmt.Errorf("offset %d outstanding at detached consumer %d", off, m.consumer)
			}
			if _, ok := c.out[off]; !ok {
				return fmt.Errorf("offset %d outstanding at %d but not in its set", off, m.consumer)
			}
		}
	}
	for _, c := range d.order {
		for off := range c.out {
			if m := d.msgs[off]; m == nil || m.loc != locOutstanding || m.consumer != c.id {
				return fmt.Errorf("consumer %d lists offset %d it does not hold", c.id, off)
			}
		}
		if c.permits < 0 {
			return fmt.Errorf("consumer %d has %d permits", c.id, c.permits)
		}
	}
	if d.typ == KeyShared {
		if err := d.checkKeyInvariants(); err != nil {
			return err
		}
	}
	// Every offset in [markDelete, readPos) is acked or tracked.
	for off := d.markDelete; off < d.readPos; off++ {
		if _, ok := d.msgs[off]; !ok && !d.acked.contains(off) {
			return fmt.Errorf("offset %d below read position %d is neither acked nor tracked (lost)", off, d.readPos)
		}
	}
	// Each queued message has a live queue entry.
	live := map[uint64]bool{}
	for _, e := range d.ready {
		if _, ok := d.live(e.offset, e.seq, locReady); ok {
			live[e.offset] = true
		}
	}
	for _, e := range d.delayed {
		if _, ok := d.live(e.offset, e.seq, locDelayed); ok {
			live[e.offset] = true
		}
	}
	for _, off := range d.deadLetters {
		if m := d.msgs[off]; m != nil && m.loc == locDeadLetter {
			live[off] = true
		}
	}
	for off, m := range d.msgs {
		if (m.loc == locReady || m.loc == locDelayed || m.loc == locDeadLetter) && !live[off] {
			return fmt.Errorf("offset %d queued (loc %d) without a live queue entry", off, m.loc)
		}
	}
	return nil
}

// checkKeyInvariants: the hash states count exactly the tracked messages of
// each hash, and a hash's outstanding messages are all at one consumer.
func (d *Dispatcher) checkKeyInvariants() error {
	want := map[uint32]*hashState{}
	ready := 0
	for off, m := range d.msgs {
		if !m.hashed {
			return fmt.Errorf("offset %d tracked without a key hash", off)
		}
		hs := want[m.hash]
		if hs == nil {
			hs = &hashState{}
			want[m.hash] = hs
		}
		switch m.loc {
		case locOutstanding:
			if hs.out > 0 && hs.holder != m.consumer {
				return fmt.Errorf("hash %d outstanding at consumers %d and %d", m.hash, hs.holder, m.consumer)
			}
			hs.holder = m.consumer
			hs.out++
		case locReady:
			hs.ready++
			ready++
		default:
			hs.parked = append(hs.parked, off)
		}
	}
	for h, hs := range want {
		slices.Sort(hs.parked)
		got := d.hashes[h]
		if got == nil || got.out != hs.out || (hs.out > 0 && got.holder != hs.holder) || got.ready != hs.ready || !slices.Equal(got.parked, hs.parked) {
			return fmt.Errorf("hash %d: state %+v, messages say %+v", h, got, hs)
		}
	}
	if len(d.hashes) != len(want) || d.kReady != ready {
		return fmt.Errorf("%d hash states and %d ready, messages say %d and %d", len(d.hashes), d.kReady, len(want), ready)
	}
	return nil
}
