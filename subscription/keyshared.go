package subscription

import (
	"cmp"
	"slices"
	"strconv"
	"time"
)

// Key_Shared dispatch, following Pulsar's AUTO_SPLIT mode with consistent
// hashing (Pulsar's default selector) and Pulsar 4's "draining hashes" rule
// (PIP-379):
//
//   - A message's sticky key is its key (the empty key when it has none);
//     its hash is KeyHash(key): murmur3_32 & 0x7fffffff, modulo 65,536.
//   - Each consumer owns ringPointsPerConsumer points on a ring of that
//     range, at KeyHash("<name>#<n>#<i>") (n tells apart consumers of the
//     same name); a hash belongs to the consumer of the first point at or
//     after it, wrapping around (ties: the earliest attached). A joining or
//     leaving consumer moves only the hashes next to its own points.
//   - Per-key order: a message of hash h goes to h's owner only when every
//     unacknowledged message of h with a lower offset is outstanding at that
//     same consumer. So messages of a key are first delivered in offset
//     order; a redelivered message (nack, ack timeout, a consumer leaving)
//     goes out before any later message of its key; and no two consumers
//     ever hold unacknowledged messages of the same key. A consumer that
//     joins (or inherits hashes from one that left) does not receive a
//     moved key's messages until the consumer holding earlier ones has
//     acknowledged them (or nacked them, or left). Pulsar 3's coarser
//     recentlyJoinedConsumers rule held back every new message from the
//     joining consumer until the mark-delete passed its join position; this
//     holds back only the keys that moved.
//   - A message whose key is held back, or whose owner has no permits or
//     room, does not block other keys: it waits in the redelivery queue
//     (up to maxKeySharedLookahead messages; past that, reading stops, as
//     Pulsar's keySharedLookAheadMsgInReplayThreshold does).
//   - Priority levels play no part (as in Pulsar); cumulative acks are
//     refused, as on Shared.
//
// The dispatcher cannot read the log, so the shell tells it the keys of the
// messages ahead of the read position: KeysWanted says which offsets,
// LearnKeys takes their keys. Messages whose key is not known yet are not
// dispatched.

const (
	// KeyHashRange is the size of the Key_Shared hash range (Pulsar's
	// DEFAULT_RANGE_SIZE).
	KeyHashRange = 1 << 16
	// ringPointsPerConsumer is Pulsar's keySharedConsistentHashingReplicaPoints
	// default.
	ringPointsPerConsumer = 100
	// maxKeySharedLookahead bounds the messages read past a held-back key and
	// queued; reading stops beyond it.
	maxKeySharedLookahead = 10_000
	// maxKeyWindow bounds the keys known ahead of the read position.
	maxKeyWindow = 1024
)

// KeyHash is the Key_Shared hash of a sticky key, in [0, KeyHashRange).
func KeyHash(key string) uint32 {
	return (murmur3([]byte(key), 0) & 0x7fffffff) % KeyHashRange
}

type ringPoint struct {
	at uint32
	c  *consumerState
}

// hashState tracks the unacknowledged, dispatched messages of one hash.
type hashState struct {
	holder ConsumerID // where the outstanding ones are (all at one consumer)
	out    int        // outstanding
	ready  int        // queued for (re)delivery now
	parked []uint64   // delayed, dead-lettering: sorted offsets
}

func (h *hashState) empty() bool { return h.out == 0 && h.ready == 0 && len(h.parked) == 0 }

// multi reports whether several consumers receive at once.
func (d *Dispatcher) multi() bool { return d.typ == Shared || d.typ == KeyShared }

// ringAdd places c's points on the ring.
func (d *Dispatcher) ringAdd(c *consumerState) {
	used := map[int]bool{}
	for _, o := range d.order {
		if o != c && o.cfg.Name == c.cfg.Name {
			used[o.nameIndex] = true
		}
	}
	for used[c.nameIndex] {
		c.nameIndex++
	}
	prefix := c.cfg.Name + "#" + strconv.Itoa(c.nameIndex) + "#"
	for i := range ringPointsPerConsumer {
		d.ring = append(d.ring, ringPoint{at: KeyHash(prefix + strconv.Itoa(i)), c: c})
	}
	slices.SortFunc(d.ring, func(a, b ringPoint) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.c.id, b.c.id)) })
}

func (d *Dispatcher) ringRemove(c *consumerState) {
	d.ring = slices.DeleteFunc(d.ring, func(p ringPoint) bool { return p.c == c })
}

// owner returns the consumer that owns hash h, or nil with no consumer.
func (d *Dispatcher) owner(h uint32) *consumerState {
	if len(d.ring) == 0 {
		return nil
	}
	i, _ := slices.BinarySearchFunc(d.ring, h, func(p ringPoint, h uint32) int { return cmp.Compare(p.at, h) })
	if i == len(d.ring) {
		i = 0
	}
	return d.ring[i].c
}

// keyLeave and keyEnter keep the hash states in step with a message leaving
// and entering a location.
func (d *Dispatcher) keyLeave(off uint64, m *message) {
	hs := d.hashes[m.hash]
	if hs == nil || m.loc == 0 {
		return
	}
	switch m.loc {
	case locOutstanding:
		hs.out--
	case locReady:
		hs.ready--
		d.kReady--
	default:
		if i, ok := slices.BinarySearch(hs.parked, off); ok {
			hs.parked = slices.Delete(hs.parked, i, i+1)
		}
	}
	if hs.empty() {
		delete(d.hashes, m.hash)
	}
}

func (d *Dispatcher) keyEnter(off uint64, m *message) {
	hs := d.hashes[m.hash]
	if hs == nil {
		hs = &hashState{}
		d.hashes[m.hash] = hs
	}
	switch m.loc {
	case locOutstanding:
		hs.holder = m.consumer
		hs.out++
	case locReady:
		hs.ready++
		d.kReady++
	default:
		i, _ := slices.BinarySearch(hs.parked, off)
		hs.parked = slices.Insert(hs.parked, i, off)
	}
}

// keyFree reports whether the message at off of hash h may go to c now:
// every unacknowledged message of h below off is outstanding at c. isNew
// says off is past every tracked message (so any queued one is below it).
func (d *Dispatcher) keyFree(h uint32, off uint64, c *consumerState, isNew bool) bool {
	hs := d.hashes[h]
	if hs == nil {
		return true
	}
	if hs.out > 0 && hs.holder != c.id {
		return false
	}
	if len(hs.parked) > 0 && hs.parked[0] < off {
		return false
	}
	return !isNew || hs.ready == 0
}

// alignWindow drops the known keys below the read position.
func (d *Dispatcher) alignWindow() {
	rp := max(d.readPos, d.start, d.markDelete)
	kend := d.kfrom + uint64(len(d.kwin))
	switch {
	case rp < d.kfrom || rp >= kend:
		d.kfrom, d.kwin = rp, d.kwin[:0]
	default:
		d.kwin = d.kwin[rp-d.kfrom:]
		d.kfrom = rp
	}
}

// KeysWanted tells the shell of a Key_Shared subscription which keys to
// read before Dispatch: those of the count offsets from from (at most max).
// It returns count 0 when none are needed (other types, nothing new, no
// consumer with permits, or the lookahead is full).
func (d *Dispatcher) KeysWanted(maxKeys int) (from uint64, count int) {
	if d.typ != KeyShared || d.kReady >= maxKeySharedLookahead || maxKeys <= 0 {
		return 0, 0
	}
	permits := false
	for _, c := range d.order {
		permits = permits || c.permits > 0
	}
	if !permits {
		return 0, 0
	}
	d.alignWindow()
	from = d.kfrom + uint64(len(d.kwin))
	if from >= d.end {
		return 0, 0
	}
	return from, int(min(uint64(min(maxKeys, maxKeyWindow-len(d.kwin))), d.end-from))
}

// LearnKeys gives the keys of the messages at from, from+1, ...; keys not
// following the ones already known are ignored.
func (d *Dispatcher) LearnKeys(from uint64, keys []string) {
	if d.typ != KeyShared {
		return
	}
	d.alignWindow()
	kend := d.kfrom + uint64(len(d.kwin))
	if from > kend || from+uint64(len(keys)) <= kend {
		return
	}
	keys = keys[kend-from:]
	for _, k := range keys[:min(len(keys), maxKeyWindow-len(d.kwin))] {
		d.kwin = append(d.kwin, KeyHash(k))
	}
}

// MoreKeys reports whether the last Dispatch used every known key while
// consumers still had capacity: the shell should read more keys and
// dispatch again without waiting for a wake-up.
func (d *Dispatcher) MoreKeys() bool {
	if d.typ != KeyShared || d.kReady >= maxKeySharedLookahead {
		return false
	}
	d.alignWindow()
	if len(d.kwin) > 0 || d.kfrom >= d.end {
		return false
	}
	for _, c := range d.order {
		if d.hasCapacity(c) {
			return true
		}
	}
	return false
}

// dispatchKeyShared is Dispatch for Key_Shared subscriptions: queued
// messages in offset order first, then new ones whose keys are known.
func (d *Dispatcher) dispatchKeyShared(now time.Time, maxMessages int) []Assignment {
	capable := 0
	for _, c := range d.order {
		if d.hasCapacity(c) {
			capable++
		}
	}
	var out []Assignment
	give := func(c *consumerState, off uint64, m *message) {
		out = append(out, d.assign(now, c, off, m))
		if !d.hasCapacity(c) {
			capable--
		}
	}
	if len(d.ready) > 0 && capable > 0 {
		// A sorted slice is a valid heap: sort, take in order, keep the
		// rest in order. Sorting an almost sorted heap is nearly linear.
		slices.SortFunc(d.ready, func(a, b offsetEntry) int { return cmp.Compare(a.offset, b.offset) })
		held := map[uint32]bool{} // hashes with a queued message left behind
		keep := d.ready[:0]
		for i, e := range d.ready {
			if len(out) >= maxMessages || capable == 0 {
				keep = append(keep, d.ready[i:]...)
				break
			}
			m, live := d.live(e.offset, e.seq, locReady)
			if !live {
				continue
			}
			c := d.owner(m.hash)
			if held[m.hash] || c == nil || !d.hasCapacity(c) || !d.keyFree(m.hash, e.offset, c, false) {
				held[m.hash] = true
				keep = append(keep, e)
				continue
			}
			give(c, e.offset, m)
		}
		d.ready = keep
	}
	for len(out) < maxMessages && capable > 0 {
		off := d.acked.nextOut(max(d.readPos, d.start, d.markDelete))
		d.readPos = off
		if off >= d.end {
			break
		}
		d.alignWindow()
		if len(d.kwin) == 0 {
			break // key unknown: the shell reads it first
		}
		h := d.kwin[0]
		c := d.owner(h)
		free := c != nil && d.hasCapacity(c) && d.keyFree(h, off, c, true)
		if !free && d.kReady >= maxKeySharedLookahead {
			break
		}
		m := &message{hash: h, hashed: true}
		d.msgs[off] = m
		d.readPos = off + 1
		if free {
			give(c, off, m)
		} else {
			d.requeue(off, m)
		}
	}
	return out
}

// rewind forgets every dispatched, unacknowledged message and restarts
// delivery at the mark-delete position (individual acks are kept). It runs
// when a consumer with no other attached changes the type to or from
// Key_Shared, as Pulsar rewinds a cursor whose last consumer left:
// messages queued under another type have no known key. Redelivery counts
// restart at 0.
func (d *Dispatcher) rewind() {
	clear(d.msgs)
	d.ready = d.ready[:0]
	d.delayed = d.delayed[:0]
	d.deadLetters = d.deadLetters[:0]
	clear(d.hashes)
	d.kReady = 0
	d.rewound = max(d.rewound, d.readPos)
	d.readPos = d.markDelete
	d.kfrom, d.kwin = d.readPos, d.kwin[:0]
}
