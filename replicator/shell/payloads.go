package shell

import (
	"fmt"
	"slices"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
)

// Written once. Every stream message a region replicates is in its
// origin's journal (op body = the message), so the node-of-one shell
// appends it to its global stream by reference (segment.Record.PayloadRef:
// the record without its payload's bytes) and the stream's reads take the
// payload from the journal: a message is written once per region, not in
// the journal and again in the stream. The journal record is durable
// before the stream record is appended (the completer applies a step once
// its journal writes are), journals are never truncated, and a stream
// record re-derived after a crash points at the same op, so a reference
// always resolves. Geo-fabric domains and regions of several nodes (whose
// streams are replicated logs of their own) store payloads in full.

// Bounds of one resolution: records of one origin whose sequence numbers
// are at most maxResolveGap apart are resolved together, at most
// maxResolveSpan ops at a time (the tail cache serves such a range at
// once; from the journal, the ops between them are read in place and
// dropped, maxJournalReadBytes at a time).
const (
	maxResolveGap  = 256
	maxResolveSpan = 4096
)

// journalReader is a journal that can be read in place (a segment log of
// the node's own: the only journals payloads are referenced in).
type journalReader interface {
	ReadFunc(from uint64, maxRecords, maxBytes int, fn func([]segment.Record)) (int, error)
}

// ResolvePayloads implements broker.PayloadSource: it fills the payloads of
// the records of stream, read back, that this shell appended by reference,
// from the journals' tail cache, or from the journals.
func (s *Shell) ResolvePayloads(stream naming.Stream, recs []segment.Record) error {
	for i := 0; i < len(recs); {
		if !recs[i].PayloadRef {
			i++
			continue
		}
		origin, first, last := recs[i].Origin, recs[i].OriginSeq, recs[i].OriginSeq
		end := i + 1
		for ; end < len(recs); end++ {
			r := &recs[end]
			if !r.PayloadRef {
				continue
			}
			if r.Origin != origin || r.OriginSeq <= last || r.OriginSeq-last > maxResolveGap || r.OriginSeq-first >= maxResolveSpan {
				break
			}
			last = r.OriginSeq
		}
		if err := s.resolveRun(stream, origin, first, last, recs[i:end]); err != nil {
			return fmt.Errorf("shell: payloads of %s: %w", stream, err)
		}
		i = end
	}
	return nil
}

// resolveRun fills the payloads of the PayloadRef records of run, every
// one of origin with a sequence number in first..last, increasing.
func (s *Shell) resolveRun(stream naming.Stream, origin string, first, last uint64, run []segment.Record) error {
	if entries, ok := s.journals.cache.get(origin, first, last); ok {
		for k := range run {
			if r := &run[k]; r.PayloadRef {
				p, err := streamPayload(stream, origin, r.OriginSeq, entries[r.OriginSeq-first].Seq, entries[r.OriginSeq-first].Body)
				if err != nil {
					return err
				}
				r.Payload = p
			}
		}
		return nil
	}
	l, ok := s.journals.logs[origin].(journalReader)
	if !ok {
		return fmt.Errorf("no journal of %q to read in place: %w", origin, ErrJournal)
	}
	next := nextRef(run, 0) // the reference of run still to resolve
	var failed error
	take := func(ops []segment.Record) {
		for _, op := range ops {
			if failed != nil || next == len(run) || op.OriginSeq != run[next].OriginSeq {
				continue
			}
			p, err := streamPayload(stream, origin, run[next].OriginSeq, op.OriginSeq, op.Payload)
			if err != nil {
				failed = err
				continue
			}
			run[next].Payload = slices.Clone(p) // op aliases the journal's read buffer
			next = nextRef(run, next+1)
		}
	}
	for off := first - 1; off < last && failed == nil; {
		n, err := l.ReadFunc(off, int(last-off), maxJournalReadBytes, take)
		if err != nil {
			return fmt.Errorf("read journal of %s at %d: %w", origin, off+1, err)
		}
		if n == 0 {
			return fmt.Errorf("journal of %s ends at %d, asked up to %d: %w", origin, off, last, ErrJournal)
		}
		off += uint64(n)
	}
	if failed != nil {
		return failed
	}
	if next != len(run) {
		return fmt.Errorf("journal of %s does not hold op %d: %w", origin, run[next].OriginSeq, ErrJournal)
	}
	return nil
}

// nextRef returns the index of the first record by reference in run at or
// after i, len(run) if none.
func nextRef(run []segment.Record, i int) int {
	for i < len(run) && !run[i].PayloadRef {
		i++
	}
	return i
}

// streamPayload returns the payload of the journaled op seq of origin (its
// body), which a reference read from stream names as op want.
func streamPayload(stream naming.Stream, origin string, want, seq uint64, body []byte) ([]byte, error) {
	if seq != want {
		return nil, fmt.Errorf("op %s:%d in place of %d: %w", origin, seq, want, ErrJournal)
	}
	payload, ofStream, err := StreamMessagePayload(body, stream)
	if err != nil {
		return nil, fmt.Errorf("op %s:%d: %w", origin, seq, err)
	}
	if !ofStream {
		return nil, fmt.Errorf("op %s:%d is a message of another stream: %w", origin, seq, ErrJournal)
	}
	return payload, nil
}
