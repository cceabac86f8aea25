package sim

import (
	"encoding/binary"
	"errors"
	"fmt"

	core "github.com/causeway/causeway/region"
	"github.com/causeway/causeway/replicator"
)

// Kinds of record in a node's copy of the region's replication journal.
const (
	// recOp is a delivered op: the journal entry of one origin.
	recOp byte = iota + 1
	// recJoinStart is the durable join marker: the engine that wrote it
	// was joining (its region had lost every disk); a leader that finds
	// it last in its log joins again (Restore.Rejoin).
	recJoinStart
	// recJoinEnd clears the marker: the engine joined.
	recJoinEnd
)

// rec is one record of the replicated journal, as the region's log unit
// holds it: in the real node, a record of the journal's segment log with
// the op's origin, seq, Meta and body.
type rec struct {
	kind   byte
	origin string
	seq    uint64
	meta   []byte
	body   []byte
	// oid is the simulator's name for an op published in this region (0
	// for a remote op): it travels with the record, so whichever leader
	// commits the op tells the oracle which op it was.
	oid uint64
}

func (r rec) dot() replicator.Dot { return replicator.Dot{Origin: r.origin, Seq: r.seq} }

func (r rec) entry() replicator.JournalEntry {
	return replicator.JournalEntry{Seq: r.seq, Meta: r.meta, Body: r.body}
}

// encode is the record as log shipping carries it (region.Entry.Data).
func (r rec) encode() []byte {
	b := []byte{r.kind}
	b = binary.AppendUvarint(b, r.oid)
	b = binary.AppendUvarint(b, uint64(len(r.origin)))
	b = append(b, r.origin...)
	b = binary.AppendUvarint(b, r.seq)
	b = binary.AppendUvarint(b, uint64(len(r.meta)))
	b = append(b, r.meta...)
	b = binary.AppendUvarint(b, uint64(len(r.body)))
	return append(b, r.body...)
}

var errBadRecord = errors.New("sim: malformed journal record")

func decodeRec(b []byte) (rec, error) {
	if len(b) == 0 || b[0] < recOp || b[0] > recJoinEnd {
		return rec{}, errBadRecord
	}
	r := rec{kind: b[0]}
	b = b[1:]
	next := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			b = nil
			return 0
		}
		b = b[n:]
		return v
	}
	bytesOf := func() []byte {
		n := next()
		if n > uint64(len(b)) {
			b = nil
			return nil
		}
		out := b[:n:n]
		b = b[n:]
		return out
	}
	r.oid = next()
	r.origin = string(bytesOf())
	r.seq = next()
	r.meta = bytesOf()
	r.body = bytesOf()
	if b == nil || len(b) != 0 {
		return rec{}, errBadRecord
	}
	return r, nil
}

// nodeLog is one node's durable copy of the region's replication journal
// (a region unit): every append is durable at once. It implements
// region.LogView for the leader side of log shipping.
type nodeLog struct {
	entries []core.Entry
	recs    []rec
	epochs  core.Epochs
	// ends[origin] is how many ops of origin the log holds.
	ends replicator.Vector
}

func newNodeLog() *nodeLog { return &nodeLog{ends: make(replicator.Vector)} }

func (l *nodeLog) End() uint64         { return uint64(len(l.entries)) }
func (l *nodeLog) Epochs() core.Epochs { return l.epochs }

func (l *nodeLog) Read(offset uint64, maxEntries int) []core.Entry {
	if offset >= l.End() {
		return nil
	}
	end := min(l.End(), offset+uint64(maxEntries))
	return append([]core.Entry(nil), l.entries[offset:end]...)
}

// add appends a record written by this node as leader at epoch.
func (l *nodeLog) add(r rec, epoch uint64) error {
	return l.append(core.Entry{Offset: l.End(), Epoch: epoch, Data: r.encode()}, r)
}

// append appends an entry (fetched from the leader, or written here) and
// its decoded record; an op must be the next of its origin.
func (l *nodeLog) append(e core.Entry, r rec) error {
	if e.Offset != l.End() {
		return fmt.Errorf("append at offset %d, log ends at %d: %w", e.Offset, l.End(), errCheck)
	}
	if r.kind == recOp {
		if have := l.ends[r.origin]; r.seq != have+1 {
			return fmt.Errorf("log offset %d holds %s after %d of its ops: %w", e.Offset, r.dot(), have, errCheck)
		}
		l.ends[r.origin] = r.seq
	}
	l.epochs = l.epochs.Assign(e.Epoch, e.Offset)
	l.entries = append(l.entries, e)
	l.recs = append(l.recs, r)
	return nil
}

// fetched appends an entry shipped from the leader.
func (l *nodeLog) fetched(e core.Entry) error {
	r, err := decodeRec(e.Data)
	if err != nil {
		return fmt.Errorf("offset %d: %v: %w", e.Offset, err, errCheck)
	}
	return l.append(e, r)
}

// truncate cuts the log to its first to entries; it reports how many ops
// it cut.
func (l *nodeLog) truncate(to uint64) int {
	if to >= l.End() {
		return 0
	}
	cut := 0
	for i := len(l.recs) - 1; i >= int(to); i-- {
		// Backwards: the earliest cut op of each origin sets its end.
		if r := l.recs[i]; r.kind == recOp {
			cut++
			l.ends[r.origin] = r.seq - 1
			if r.seq == 1 {
				delete(l.ends, r.origin)
			}
		}
	}
	l.entries = l.entries[:to:to]
	l.recs = l.recs[:to:to]
	l.epochs = l.epochs.TruncateTo(to)
	return cut
}

// find returns the offset of the op of origin whose body is body, if the
// log holds it (a producer's retry answered as a duplicate).
func (l *nodeLog) find(origin string, body []byte) (uint64, bool) {
	for i := len(l.recs) - 1; i >= 0; i-- {
		if r := l.recs[i]; r.kind == recOp && r.origin == origin && string(r.body) == string(body) {
			return uint64(i), true
		}
	}
	return 0, false
}

// counts is, per origin, how many ops the log's first end records hold.
func (l *nodeLog) counts(end uint64) replicator.Vector {
	v := make(replicator.Vector)
	for _, r := range l.recs[:min(end, l.End())] {
		if r.kind == recOp {
			v[r.origin] = r.seq
		}
	}
	return v
}
