package shell

import (
	"fmt"

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

// Bounds of one journal read when resolving references: records of one
// origin whose sequence numbers are at most maxResolveGap apart are read
// together, at most maxResolveSpan ops at a time.
const (
	maxResolveGap  = 256
	maxResolveSpan = 4096
)

// ResolvePayloads implements broker.PayloadSource: it fills the payloads of
// the records of stream, read back, that this shell appended by reference,
// from the journals (their tail cache first).
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
		entries, err := s.journals.ReadJournal(origin, first, last)
		if err != nil {
			return fmt.Errorf("shell: payloads of %s: %w", stream, err)
		}
		for k := i; k < end; k++ {
			r := &recs[k]
			if !r.PayloadRef {
				continue
			}
			e := entries[r.OriginSeq-first]
			if e.Seq != r.OriginSeq {
				return fmt.Errorf("shell: payload of %s:%d in %s: journal entry %d: %w", origin, r.OriginSeq, stream, e.Seq, ErrJournal)
			}
			name, m, err := DecodeStreamMessage(e.Body)
			if err != nil {
				return fmt.Errorf("shell: payload of %s:%d in %s: %w", origin, r.OriginSeq, stream, err)
			}
			if name != stream {
				return fmt.Errorf("shell: payload of %s:%d in %s: the journal holds a message of %s: %w", origin, r.OriginSeq, stream, name, ErrJournal)
			}
			r.Payload = m.Payload
		}
		i = end
	}
	return nil
}
