package broker

import (
	"github.com/causeway/causeway/broker/segment"
)

// dedupWindow is how many recent (sequence id, offset) pairs are remembered
// per producer name, so a re-sent message is answered with its original
// message id.
const dedupWindow = 1024

// maxDedupProducers bounds the producer names remembered per stream; past it
// the least recently seen name is forgotten.
const maxDedupProducers = 10000

// dedupRestoreRecords bounds how many tail records are scanned on open to
// rebuild producer sequence state.
const dedupRestoreRecords = 50000

type dedupState struct {
	highest  int64
	lastSeen uint64      // stream offset of the newest record, for eviction
	ring     []seqOffset // grows to dedupWindow, then wraps
	n        int
}

type seqOffset struct {
	seq int64
	off uint64
}

func (d *dedupState) add(seq int64, off uint64) {
	if seq > d.highest {
		d.highest = seq
	}
	d.lastSeen = off
	if len(d.ring) < dedupWindow {
		d.ring = append(d.ring, seqOffset{seq, off})
	} else {
		d.ring[d.n%dedupWindow] = seqOffset{seq, off}
	}
	d.n++
}

func (d *dedupState) find(seq int64) (uint64, bool) {
	lo := max(0, d.n-dedupWindow)
	for i := d.n - 1; i >= lo; i-- {
		e := d.ring[i%dedupWindow]
		if e.seq == seq {
			return e.off, true
		}
	}
	return 0, false
}

func (s *Stream) rememberPublished(producer string, recs []segment.Record, first uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dedup[producer]
	if d == nil {
		if len(s.dedup) >= maxDedupProducers {
			s.evictOldestDedup()
		}
		d = &dedupState{highest: -1}
		s.dedup[producer] = d
	}
	for i, r := range recs {
		d.add(r.SequenceID, first+uint64(i))
	}
}

func (s *Stream) evictOldestDedup() {
	var oldest string
	var at uint64 = ^uint64(0)
	for name, d := range s.dedup {
		if _, live := s.producers[name]; !live && d.lastSeen < at {
			oldest, at = name, d.lastSeen
		}
	}
	delete(s.dedup, oldest)
}

func (s *Stream) lookupDuplicate(producer string, seq int64) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.dedup[producer]; d != nil {
		return d.find(seq)
	}
	return 0, false
}

// dedupHighest returns the highest sequence id the stream stored for
// producer, if it remembers the name.
func (s *Stream) dedupHighest(producer string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.dedup[producer]; d != nil && d.highest >= 0 {
		return d.highest, true
	}
	return 0, false
}

// restoreDedup rebuilds producer sequence state from the log's tail, so a
// producer that reconnects after a restart is still de-duplicated.
func (s *Stream) restoreDedup() { s.dedup = dedupFromLog(s.plog) }

// dedupFromLog reads producer sequence state from the tail of l.
func dedupFromLog(l *segment.Log) map[string]*dedupState {
	dedup := map[string]*dedupState{}
	end := l.EndOffset()
	from := l.StartOffset()
	if end-from > dedupRestoreRecords {
		from = end - dedupRestoreRecords
	}
	for from < end {
		recs, err := l.ReadStored(from, 4096, 8<<20) // producers and sequence ids alone
		if err != nil || len(recs) == 0 {
			return dedup
		}
		for _, r := range recs {
			if r.Producer == "" {
				continue
			}
			d := dedup[r.Producer]
			if d == nil {
				d = &dedupState{highest: -1}
				dedup[r.Producer] = d
			}
			d.add(r.SequenceID, r.Offset)
		}
		from = recs[len(recs)-1].Offset + 1
	}
	return dedup
}
