package sim

import (
	"encoding/binary"

	"github.com/causeway/causeway/region"
)

// memLog is a replica's durable log of one unit: every append is durable
// at once (the simulated disk fsyncs before anything is acknowledged).
type memLog struct {
	entries []region.Entry
	epochs  region.Epochs
}

// Start is 0: the simulated logs keep every record.
func (l *memLog) Start() uint64 { return 0 }

func (l *memLog) End() uint64           { return uint64(len(l.entries)) }
func (l *memLog) Epochs() region.Epochs { return l.epochs }

func (l *memLog) Read(offset uint64, maxEntries int) []region.Entry {
	if offset >= l.End() {
		return nil
	}
	end := min(l.End(), offset+uint64(maxEntries))
	return append([]region.Entry(nil), l.entries[offset:end]...)
}

func (l *memLog) append(e region.Entry) {
	l.epochs = l.epochs.Assign(e.Epoch, e.Offset)
	l.entries = append(l.entries, e)
}

// truncate cuts the log at to and forgets the epochs starting there or
// later - even when no record lies past to: an epoch whose leader wrote
// nothing would otherwise stay the log's last and diverge forever.
func (l *memLog) truncate(to uint64) {
	if to < l.End() {
		l.entries = l.entries[:to]
	}
	l.epochs = l.epochs.TruncateTo(to)
}

// find returns the offset of producer p's record seq, if the log has it.
func (l *memLog) find(p, seq uint32) (uint64, bool) {
	for i := len(l.entries) - 1; i >= 0; i-- {
		if gp, gs := decodeRecord(l.entries[i].Data); gp == p && gs == seq {
			return uint64(i), true
		}
	}
	return 0, false
}

func encodeRecord(p, seq uint32) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint32(b, p)
	binary.BigEndian.PutUint32(b[4:], seq)
	return b
}

func decodeRecord(b []byte) (p, seq uint32) {
	return binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
}
