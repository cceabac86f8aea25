package spot

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"

	"github.com/cockroachdb/pebble/v2"
	sm "github.com/lni/dragonboat/v4/statemachine"
	"go.uber.org/zap"
)

// A snapshot stream is the whole keyspace in key order:
//
//	"SPOTSNAP" version(1)
//	{ uvarint(len key) key uvarint(len value) value }   len key >= 1
//	uvarint(0)
//	crc32c of everything before it (4 bytes, big endian)
var snapshotMagic = []byte("SPOTSNAP")

const snapshotVersion = 1

// stopCheckRecords is how many records pass between checks of the stop
// channel while a snapshot streams.
const stopCheckRecords = 1024

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// PrepareSnapshot implements sm.IOnDiskStateMachine: a Pebble snapshot is
// the point-in-time state SaveSnapshot streams.
func (m *stateMachine) PrepareSnapshot() (any, error) {
	return m.db.NewSnapshot(), nil
}

// SaveSnapshot implements sm.IOnDiskStateMachine.
func (m *stateMachine) SaveSnapshot(state any, w io.Writer, stop <-chan struct{}) error {
	snap, ok := state.(*pebble.Snapshot)
	if !ok {
		return fmt.Errorf("spot: snapshot state of type %T", state)
	}
	defer snap.Close()
	it, err := snap.NewIter(nil)
	if err != nil {
		return fmt.Errorf("spot: snapshot iterator: %w", err)
	}
	sw := newSnapshotWriter(w)
	n := 0
	for it.First(); it.Valid(); it.Next() {
		if n++; n%stopCheckRecords == 0 && stopped(stop) {
			_ = it.Close()
			return sm.ErrSnapshotStopped
		}
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return fmt.Errorf("spot: snapshot read: %w", err)
		}
		if err := sw.record(it.Key(), v); err != nil {
			_ = it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("spot: snapshot iterator: %w", err)
	}
	return sw.finish()
}

// RecoverFromSnapshot implements sm.IOnDiskStateMachine: it restores the
// stream into a fresh database and swaps it in. The old state stays whole
// until the new one is complete and durable.
func (m *stateMachine) RecoverFromSnapshot(r io.Reader, stop <-chan struct{}) error {
	gen := m.gen + 1
	if err := os.RemoveAll(m.dbDir(gen)); err != nil {
		return fmt.Errorf("spot: clear %s: %w", m.dbDir(gen), err)
	}
	db, err := m.openDB(gen)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		_ = db.Close()
		_ = os.RemoveAll(m.dbDir(gen))
		return err
	}
	b := db.NewBatch()
	n := 0
	err = readSnapshot(r, func(k, v []byte) error {
		if n++; n%stopCheckRecords == 0 && stopped(stop) {
			return sm.ErrSnapshotStopped
		}
		if err := b.Set(k, v, nil); err != nil {
			return err
		}
		if b.Len() >= snapshotBatchBytes {
			if err := b.Commit(pebble.NoSync); err != nil {
				return err
			}
			b = db.NewBatch()
		}
		return nil
	})
	if err == nil {
		err = b.Commit(pebble.Sync)
	}
	if err != nil {
		_ = b.Close()
		return fail(fmt.Errorf("spot: restore snapshot: %w", err))
	}
	_ = b.Close()
	if err := db.Flush(); err != nil {
		return fail(fmt.Errorf("spot: flush restored state: %w", err))
	}
	if err := m.setCurrent(gen); err != nil {
		return fail(err)
	}
	m.restores.Add(1) // before the swap: a reader seeing the new state sees it counted
	m.mu.Lock()
	old, oldGen := m.db, m.gen
	m.db, m.gen = db, gen
	m.mu.Unlock()
	if old != nil {
		if err := old.Close(); err != nil {
			m.log.Warn("close replaced state", zap.Error(err))
		}
	}
	if err := os.RemoveAll(m.dbDir(oldGen)); err != nil {
		m.log.Warn("remove replaced state", zap.Error(err))
	}
	applied, _ := readApplied(db)
	m.log.Info("state restored from snapshot", zap.Uint64("applied", applied), zap.Int("records", n))
	// The snapshot's last entries were never applied here: their events
	// come from its outbox (feedoutbox.go).
	if err := m.replayOutbox(db); err != nil {
		m.log.Warn("change events of the snapshot's last entries not handed to the feed", zap.Error(err))
	}
	return nil
}

func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// snapshotWriter writes the stream format.
type snapshotWriter struct {
	w   *bufio.Writer
	crc hash.Hash32
	buf []byte
	err error
}

func newSnapshotWriter(w io.Writer) *snapshotWriter {
	sw := &snapshotWriter{crc: crc32.New(castagnoli)}
	sw.w = bufio.NewWriterSize(io.MultiWriter(w, sw.crc), 64<<10)
	sw.write(append(append([]byte(nil), snapshotMagic...), snapshotVersion))
	return sw
}

func (sw *snapshotWriter) write(b []byte) {
	if sw.err == nil {
		_, sw.err = sw.w.Write(b)
	}
}

func (sw *snapshotWriter) record(k, v []byte) error {
	sw.buf = binary.AppendUvarint(sw.buf[:0], uint64(len(k)))
	sw.write(sw.buf)
	sw.write(k)
	sw.buf = binary.AppendUvarint(sw.buf[:0], uint64(len(v)))
	sw.write(sw.buf)
	sw.write(v)
	return sw.failed()
}

func (sw *snapshotWriter) failed() error {
	if sw.err == nil {
		return nil
	}
	if errors.Is(sw.err, sm.ErrSnapshotStreaming) {
		return sm.ErrSnapshotStreaming
	}
	return fmt.Errorf("spot: write snapshot: %w", sw.err)
}

func (sw *snapshotWriter) finish() error {
	sw.write([]byte{0})
	if sw.err == nil {
		sw.err = sw.w.Flush()
	}
	if err := sw.failed(); err != nil {
		return err
	}
	// The checksum covers everything before it (writing it also feeds the
	// hash, which is no longer read).
	sw.write(binary.BigEndian.AppendUint32(nil, sw.crc.Sum32()))
	if sw.err == nil {
		sw.err = sw.w.Flush()
	}
	return sw.failed()
}

// readSnapshot decodes a stream, calling fn for each record in order. A
// stream that is truncated, oversized, out of order or fails its checksum
// returns an error wrapping ErrCorruptSnapshot; fn's errors come back as
// they are. fn must not keep k or v. Records reach fn before the checksum
// is verified: the caller discards what it built when an error returns.
func readSnapshot(r io.Reader, fn func(k, v []byte) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	hr := &hashingReader{r: br, crc: crc32.New(castagnoli)}
	head := make([]byte, len(snapshotMagic)+1)
	if _, err := io.ReadFull(hr, head); err != nil {
		return fmt.Errorf("%w: header: %w", ErrCorruptSnapshot, err)
	}
	if !bytes.Equal(head[:len(snapshotMagic)], snapshotMagic) || head[len(snapshotMagic)] != snapshotVersion {
		return fmt.Errorf("%w: bad header", ErrCorruptSnapshot)
	}
	var k, v, prev []byte
	for {
		kn, err := binary.ReadUvarint(hr)
		if err != nil {
			return fmt.Errorf("%w: key length: %w", ErrCorruptSnapshot, err)
		}
		if kn == 0 {
			break
		}
		if kn > maxSnapshotKeyBytes {
			return fmt.Errorf("%w: key of %d bytes", ErrCorruptSnapshot, kn)
		}
		k = grow(k, int(kn))
		if _, err := io.ReadFull(hr, k); err != nil {
			return fmt.Errorf("%w: key: %w", ErrCorruptSnapshot, err)
		}
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			return fmt.Errorf("%w: keys out of order", ErrCorruptSnapshot)
		}
		vn, err := binary.ReadUvarint(hr)
		if err != nil {
			return fmt.Errorf("%w: value length: %w", ErrCorruptSnapshot, err)
		}
		if vn > maxSnapshotValueBytes {
			return fmt.Errorf("%w: value of %d bytes", ErrCorruptSnapshot, vn)
		}
		v = grow(v, int(vn))
		if _, err := io.ReadFull(hr, v); err != nil {
			return fmt.Errorf("%w: value: %w", ErrCorruptSnapshot, err)
		}
		if err := fn(k, v); err != nil {
			return err
		}
		prev = append(prev[:0], k...)
	}
	var sum [4]byte
	if _, err := io.ReadFull(br, sum[:]); err != nil {
		return fmt.Errorf("%w: checksum: %w", ErrCorruptSnapshot, err)
	}
	if binary.BigEndian.Uint32(sum[:]) != hr.crc.Sum32() {
		return fmt.Errorf("%w: checksum mismatch", ErrCorruptSnapshot)
	}
	return nil
}

// hashingReader hashes exactly the bytes its reader consumed.
type hashingReader struct {
	r   *bufio.Reader
	crc hash.Hash32
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.crc.Write(p[:n])
	return n, err
}

func (h *hashingReader) ReadByte() (byte, error) {
	c, err := h.r.ReadByte()
	if err == nil {
		h.crc.Write([]byte{c})
	}
	return c, err
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}
