package replicator

// pending is a received operation that is not deliverable yet. deps is its
// full dependency vector, dense by region index.
type pending struct {
	hlc  Timestamp
	deps []uint64
	body []byte
}

// buffer holds undeliverable operations per origin, keyed by seq. It is
// bounded by the engine (MaxBufferedOps, MaxBufferedBytes); it is volatile
// and lost on restart (the senders' journals are durable).
type buffer struct {
	byOrigin []map[uint64]*pending
	ops      int
	bytes    int
}

func (b *buffer) grow() { b.byOrigin = append(b.byOrigin, nil) }

// size is what one pending op counts against MaxBufferedBytes.
func (p *pending) size() int { return len(p.body) + 8*len(p.deps) + 64 }

func (b *buffer) get(o int, seq uint64) *pending {
	m := b.byOrigin[o]
	if m == nil {
		return nil
	}
	return m[seq]
}

func (b *buffer) put(o int, seq uint64, p *pending) {
	if b.byOrigin[o] == nil {
		b.byOrigin[o] = make(map[uint64]*pending)
	}
	b.byOrigin[o][seq] = p
	b.ops++
	b.bytes += p.size()
}

func (b *buffer) remove(o int, seq uint64) {
	m := b.byOrigin[o]
	p, ok := m[seq]
	if !ok {
		return
	}
	delete(m, seq)
	b.ops--
	b.bytes -= p.size()
}

// has reports whether origin o has anything buffered.
func (b *buffer) has(o int) bool { return len(b.byOrigin[o]) > 0 }

// dropOriginAbove forgets what is buffered of origin o past seq.
func (b *buffer) dropOriginAbove(o int, seq uint64) {
	for s, p := range b.byOrigin[o] {
		if s > seq {
			delete(b.byOrigin[o], s)
			b.ops--
			b.bytes -= p.size()
		}
	}
}

// dropOrigin forgets everything buffered of origin o.
func (b *buffer) dropOrigin(o int) {
	for _, p := range b.byOrigin[o] {
		b.ops--
		b.bytes -= p.size()
	}
	b.byOrigin[o] = nil
}
