package spot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	sm "github.com/lni/dragonboat/v4/statemachine"
	"go.uber.org/zap"

	"github.com/causeway/causeway/collections"
)

// stateMachine is one replica's copy of a SPOT group: a dragonboat
// IOnDiskStateMachine on Pebble. Update applies committed entries (one
// Pebble batch per call, the applied index inside it), Lookup serves
// linearizable reads once dragonboat has checked the read index, and
// snapshots stream a point-in-time copy of the whole keyspace.
//
// The database lives in dir/db-N; dir/CURRENT names the live one. A
// snapshot is restored into a fresh db-N+1 that replaces it atomically (the
// CURRENT file is renamed into place), so a crash mid-restore leaves the
// old state whole.
type stateMachine struct {
	dir  string
	home string
	log  *zap.Logger
	// onChanges receives the change events of each Update, in apply
	// order, after they are committed (nil: none).
	onChanges func([]Change)

	// mu guards db against the swap of a restore and Close; Lookup holds
	// it shared.
	mu     sync.RWMutex
	db     *pebble.DB
	gen    int
	closed bool

	restores atomic.Uint64 // snapshots restored (for tests and metrics)
}

func newStateMachine(dir, home string, log *zap.Logger, onChanges func([]Change)) *stateMachine {
	return &stateMachine{dir: dir, home: home, log: log, onChanges: onChanges}
}

const currentFile = "CURRENT"

func (m *stateMachine) dbDir(gen int) string {
	return filepath.Join(m.dir, "db-"+strconv.Itoa(gen))
}

func (m *stateMachine) openDB(gen int) (*pebble.DB, error) {
	db, err := pebble.Open(m.dbDir(gen), &pebble.Options{Logger: pebbleLogger{m.log}})
	if err != nil {
		return nil, fmt.Errorf("spot: open state %s: %w", m.dbDir(gen), err)
	}
	return db, nil
}

// Open implements sm.IOnDiskStateMachine: it opens the live database and
// returns the index it has applied.
func (m *stateMachine) Open(<-chan struct{}) (uint64, error) {
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		return 0, fmt.Errorf("spot: create state dir: %w", err)
	}
	gen := 1
	b, err := os.ReadFile(filepath.Join(m.dir, currentFile))
	switch {
	case err == nil:
		if gen, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil || gen < 1 {
			return 0, fmt.Errorf("spot: %s names no database: %q", currentFile, b)
		}
	case errors.Is(err, os.ErrNotExist):
		if err := m.setCurrent(gen); err != nil {
			return 0, err
		}
	default:
		return 0, fmt.Errorf("spot: read %s: %w", currentFile, err)
	}
	m.removeStale(gen)
	db, err := m.openDB(gen)
	if err != nil {
		return 0, err
	}
	applied, err := readApplied(db)
	if err != nil {
		_ = db.Close()
		return 0, err
	}
	m.mu.Lock()
	m.db, m.gen = db, gen
	m.mu.Unlock()
	// The events this replica applied before it stopped may not be in
	// their streams (feedoutbox.go).
	if err := m.replayOutbox(db); err != nil {
		m.log.Warn("change events of the last entries not handed to the feed again", zap.Error(err))
	}
	return applied, nil
}

// setCurrent makes gen the live database, atomically.
func (m *stateMachine) setCurrent(gen int) error {
	tmp := filepath.Join(m.dir, currentFile+".tmp")
	if err := writeFileSync(tmp, []byte(strconv.Itoa(gen)+"\n")); err != nil {
		return fmt.Errorf("spot: write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, filepath.Join(m.dir, currentFile)); err != nil {
		return fmt.Errorf("spot: install %s: %w", currentFile, err)
	}
	return syncDir(m.dir)
}

// removeStale deletes database directories other than the live one (a
// restore interrupted by a crash, or the one a restore replaced).
func (m *stateMachine) removeStale(live int) {
	entries, err := os.ReadDir(m.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, "db-") || name == "db-"+strconv.Itoa(live) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(m.dir, name)); err != nil {
			m.log.Warn("remove stale state", zap.String("dir", name), zap.Error(err))
		}
	}
}

func readApplied(g getter) (uint64, error) {
	v, closer, err := g.Get(keyApplied)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("spot: read applied index: %w", err)
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: applied index of %d bytes", ErrCorruptSnapshot, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// Update implements sm.IOnDiskStateMachine: it applies the entries in one
// batch with the last index, then hands their change events on.
func (m *stateMachine) Update(entries []sm.Entry) ([]sm.Entry, error) {
	if len(entries) == 0 {
		return entries, nil
	}
	b := m.db.NewIndexedBatch()
	defer b.Close()
	var changes []Change
	for i := range entries {
		e := &entries[i]
		out, ch, err := m.applyEntry(b, e.Index, e.Cmd)
		if err != nil {
			return nil, err
		}
		e.Result = sm.Result{Data: encodeOutcome(out)}
		if out.Err == nil {
			e.Result.Value = 1
		}
		if err := keepOutbox(b, e.Index, ch); err != nil {
			return nil, err
		}
		changes = append(changes, ch...)
	}
	last := entries[len(entries)-1].Index
	if err := b.Set(keyApplied, binary.BigEndian.AppendUint64(nil, last), nil); err != nil {
		return nil, fmt.Errorf("spot: batch: %w", err)
	}
	if err := pruneDedup(b, last); err != nil {
		return nil, err
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return nil, fmt.Errorf("spot: commit entries up to %d: %w", last, err)
	}
	if m.onChanges != nil && len(changes) > 0 {
		m.onChanges(changes)
	}
	return entries, nil
}

// applyEntry applies one entry to b. A refused command is an outcome with
// an error; the returned error is for storage failures only (they stop the
// replica).
func (m *stateMachine) applyEntry(b *pebble.Batch, index uint64, cmd []byte) (*outcome, []Change, error) {
	c, err := decodeCommand(cmd)
	if err != nil {
		return &outcome{Index: index, Err: toWire(err)}, nil, nil
	}
	id, fp := c.dedupID(), c.fingerprint()
	if c.ID != "" {
		prev, prevFP, ok, err := lookupDedup(b, id, index)
		if err != nil {
			return nil, nil, err
		}
		if ok && prevFP != fp {
			return &outcome{Index: index, Err: toWire(fmt.Errorf("%w: request id %q was used for another request", ErrBadRequest, c.ID))}, nil, nil
		}
		if ok {
			return prev, nil, nil
		}
	}
	out, changes, err := m.execute(b, index, c)
	if err != nil {
		return nil, nil, err
	}
	if c.ID != "" {
		if err := storeDedup(b, id, fp, index, out); err != nil {
			return nil, nil, err
		}
	}
	return out, changes, nil
}

func (m *stateMachine) execute(b *pebble.Batch, index uint64, c *command) (*outcome, []Change, error) {
	r := pebbleReader{b}
	out := &outcome{Index: index}
	switch {
	case c.Create != nil:
		info, err := createCollection(b, r, index, c, m.home)
		if err != nil {
			return refuse(out, err)
		}
		out.Info = &info
		return out, nil, nil
	case c.Drop != "":
		info, ok, err := r.collection(c.Tenant, c.Fabric, c.Drop)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			out.Err = toWire(fmt.Errorf("%w: %s", ErrCollectionNotFound, c.Drop))
			return out, nil, nil
		}
		if err := b.Delete(collectionKey(c.Tenant, c.Fabric, c.Drop), nil); err != nil {
			return nil, nil, fmt.Errorf("spot: batch: %w", err)
		}
		if err := b.DeleteRange(docPrefix(info.ID), prefixEnd(docPrefix(info.ID)), nil); err != nil {
			return nil, nil, fmt.Errorf("spot: batch: %w", err)
		}
		out.Info = &info
		return out, nil, nil
	}
	ex, err := runTxn(r, execContext{home: m.home, index: index, nowMs: c.NowMs}, c.Tenant, c.Fabric, c.Txn)
	if err != nil {
		return refuse(out, err)
	}
	for _, w := range ex.writes {
		k := docKey(w.collectionID, w.key)
		if w.doc == nil {
			err = b.Delete(k, nil)
		} else {
			err = b.Set(k, w.doc.AppendBinary(nil), nil)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("spot: batch: %w", err)
		}
	}
	out.Results = ex.results
	return out, ex.changes, nil
}

// refuse turns a refusal into an outcome; storage failures stay errors.
func refuse(out *outcome, err error) (*outcome, []Change, error) {
	if errors.Is(err, errStorage) {
		return nil, nil, err
	}
	out.Err = toWire(err)
	return out, nil, nil
}

func createCollection(b *pebble.Batch, r pebbleReader, index uint64, c *command, home string) (CollectionInfo, error) {
	spec := c.Create
	if spec.Home != home {
		return CollectionInfo{}, fmt.Errorf("%w: %s is homed in %s, this group serves %s", ErrHomeMismatch, spec.Name, spec.Home, home)
	}
	if _, ok, err := r.collection(c.Tenant, c.Fabric, spec.Name); err != nil || ok {
		if err == nil {
			err = fmt.Errorf("%w: %s", ErrCollectionExists, spec.Name)
		}
		return CollectionInfo{}, err
	}
	info := CollectionInfo{
		Tenant: c.Tenant, Fabric: c.Fabric, Name: spec.Name, ID: index,
		Home: home, KeyValue: spec.KeyValue, CreatedAt: int64(c.NowMs),
	}
	v, _ := jsonMarshal(info)
	if err := b.Set(collectionKey(c.Tenant, c.Fabric, spec.Name), v, nil); err != nil {
		return CollectionInfo{}, fmt.Errorf("%w: batch: %w", errStorage, err)
	}
	return info, nil
}

// errStorage marks a failure of the replica's own storage (not a refusal).
var errStorage = errors.New("spot: storage")

// lookupDedup returns the kept outcome of request id, and the fingerprint
// of the request, if it was applied within the window before index. The
// window is checked by index, not by what pruning removed, so every
// replica answers the same.
func lookupDedup(g getter, id string, index uint64) (*outcome, uint64, bool, error) {
	v, closer, err := g.Get(dedupKey(id))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("spot: read request record: %w", err)
	}
	defer closer.Close()
	if len(v) < 16 {
		return nil, 0, false, fmt.Errorf("%w: request record of %d bytes", ErrCorruptSnapshot, len(v))
	}
	at, fp := binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:])
	if at+dedupWindowEntries <= index {
		return nil, 0, false, nil
	}
	out, err := decodeOutcome(v[16:])
	if err != nil {
		return nil, 0, false, err
	}
	return out, fp, true, nil
}

// storeDedup keeps out for request id, trimmed to maxDedupResultBytes
// (documents first, then results: the retry learns the outcome and index).
func storeDedup(b *pebble.Batch, id string, fp, index uint64, out *outcome) error {
	enc := encodeOutcome(out)
	if len(enc) > maxDedupResultBytes {
		slim := *out
		slim.Results = make([]OpResult, len(out.Results))
		for i, r := range out.Results {
			r.Doc = nil
			slim.Results[i] = r
		}
		if enc = encodeOutcome(&slim); len(enc) > maxDedupResultBytes {
			slim.Results = nil
			enc = encodeOutcome(&slim)
		}
	}
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 16+len(enc)), index)
	v = binary.BigEndian.AppendUint64(v, fp)
	if err := b.Set(dedupKey(id), append(v, enc...), nil); err != nil {
		return fmt.Errorf("spot: batch: %w", err)
	}
	if err := b.Set(dedupQueueKey(index, id), nil, nil); err != nil {
		return fmt.Errorf("spot: batch: %w", err)
	}
	return nil
}

// pruneDedup deletes the request records that fell out of the window.
func pruneDedup(b *pebble.Batch, last uint64) error {
	if last < dedupWindowEntries {
		return nil
	}
	lo := []byte{prefixDedupQueue}
	hi := dedupQueueKey(last-dedupWindowEntries+1, "")
	it, err := b.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return fmt.Errorf("spot: prune requests: %w", err)
	}
	var dead [][]byte
	for it.First(); it.Valid(); it.Next() {
		dead = append(dead, append([]byte(nil), it.Key()...))
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("spot: prune requests: %w", err)
	}
	for _, k := range dead {
		id := string(k[9:])
		if err := b.Delete(dedupKey(id), nil); err != nil {
			return fmt.Errorf("spot: batch: %w", err)
		}
		if err := b.Delete(k, nil); err != nil {
			return fmt.Errorf("spot: batch: %w", err)
		}
	}
	return nil
}

// Sync implements sm.IOnDiskStateMachine: it makes every applied batch
// durable.
func (m *stateMachine) Sync() error {
	if err := m.db.LogData(nil, pebble.Sync); err != nil {
		return fmt.Errorf("spot: sync state: %w", err)
	}
	return nil
}

// Close implements sm.IOnDiskStateMachine.
func (m *stateMachine) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	if m.db == nil {
		return nil
	}
	if err := m.db.Close(); err != nil {
		return fmt.Errorf("spot: close state: %w", err)
	}
	return nil
}

// getter is what reads need from a database, batch or snapshot.
type getter interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

// pebbleReader is the reader transactions run against.
type pebbleReader struct{ g getter }

func (r pebbleReader) collection(tenant, fabric, name string) (CollectionInfo, bool, error) {
	v, closer, err := r.g.Get(collectionKey(tenant, fabric, name))
	if errors.Is(err, pebble.ErrNotFound) {
		return CollectionInfo{}, false, nil
	}
	if err != nil {
		return CollectionInfo{}, false, fmt.Errorf("%w: read collection %s: %w", errStorage, name, err)
	}
	defer closer.Close()
	var info CollectionInfo
	if err := jsonUnmarshal(v, &info); err != nil {
		return CollectionInfo{}, false, fmt.Errorf("%w: collection %s: %w", errStorage, name, err)
	}
	return info, true, nil
}

func (r pebbleReader) doc(collectionID uint64, key string) (*collections.Doc, error) {
	v, closer, err := r.g.Get(docKey(collectionID, key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: read document %s: %w", errStorage, key, err)
	}
	defer closer.Close()
	d, err := collections.DecodeDoc(append([]byte(nil), v...))
	if err != nil {
		return nil, fmt.Errorf("%w: document %s: %w", errStorage, key, err)
	}
	return d, nil
}

// pebbleLogger routes Pebble's logs to zap.
type pebbleLogger struct{ log *zap.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...))
}
func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error(fmt.Sprintf(format, args...))
}

// Fatalf never exits the process (zap's Fatal would): it panics, so that
// a failed commit in Update is an error of that call (dragonboat still
// stops on it; the free-space reserve on proposals keeps a full disk from
// getting here).
func (l pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.log.Error(msg)
	panic(errors.New(msg))
}

func writeFileSync(path string, b []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("spot: open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("spot: sync dir %s: %w", dir, err)
	}
	return nil
}
