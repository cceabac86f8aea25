package streamworkers

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"github.com/causeway/causeway/internal/pebblekv"
)

// Keys of the checkpoint store, under "w/{tenant}/{fabric}/{worker}/"
// (none of the three contains '/'):
//
//	meta          the checkpoint (JSON): definition version, positions, next sequence id, counters
//	state         the engine's snapshot (its own bytes)
//	out/{seq}     a row made but not yet sent (JSON), seq as 8 big-endian bytes
//
// A commit writes all three in one synced batch; a send deletes the rows
// it sent (unsynced: a row sent again is dropped or rewritten the same).

// checkpoint is what a worker resumes from.
type checkpoint struct {
	// Version and CreatedAt are the definition's the state belongs to.
	Version   int64 `json:"version"`
	CreatedAt int64 `json:"createdAt"`
	// Positions are the next offset to read of every input stream.
	Positions map[string]uint64 `json:"positions"`
	// NextSeq is the sequence id of the next row made (the first is 1).
	NextSeq int64 `json:"nextSeq"`
	// Counters since the worker was created.
	In     uint64 `json:"in"`
	Out    uint64 `json:"out"`
	Errors uint64 `json:"errors"`
}

// Where a pending row goes.
const (
	toStream     = "stream"
	toCollection = "collection"
	toErrors     = "errors" // the worker's error stream
)

// pendingRow is a row committed and not yet sent.
type pendingRow struct {
	Seq    int64           `json:"seq"`
	To     string          `json:"to"`
	Target string          `json:"target"`
	Key    string          `json:"key,omitempty"`
	Value  json.RawMessage `json:"value"`
}

// checkpoints is the node's checkpoint store.
type checkpoints struct {
	db *pebblekv.DB
}

func workerPrefix(id workerID) string {
	return "w/" + id.Tenant + "/" + id.Fabric + "/" + id.Name + "/"
}

func outKey(id workerID, seq int64) []byte {
	k := []byte(workerPrefix(id) + "out/")
	return binary.BigEndian.AppendUint64(k, uint64(seq))
}

// load returns a worker's checkpoint, engine state and pending rows in
// sequence order; found is false when it has none.
func (c checkpoints) load(id workerID) (cp checkpoint, state []byte, rows []pendingRow, found bool, err error) {
	p := workerPrefix(id)
	meta, ok, err := c.get(p + "meta")
	if err != nil || !ok {
		return cp, nil, nil, false, err
	}
	if err := json.Unmarshal(meta, &cp); err != nil {
		return cp, nil, nil, false, fmt.Errorf("streamworkers: checkpoint of %s: %w", id, err)
	}
	if state, _, err = c.get(p + "state"); err != nil {
		return cp, nil, nil, false, err
	}
	lower := []byte(p + "out/")
	it, err := c.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)})
	if err != nil {
		return cp, nil, nil, false, fmt.Errorf("streamworkers: pending rows of %s: %w", id, err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		var r pendingRow
		if err := json.Unmarshal(it.Value(), &r); err != nil {
			return cp, nil, nil, false, fmt.Errorf("streamworkers: a pending row of %s: %w", id, err)
		}
		rows = append(rows, r)
	}
	return cp, state, rows, true, nil
}

func (c checkpoints) get(key string) ([]byte, bool, error) {
	v, closer, err := c.db.Get([]byte(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("streamworkers: reading %s: %w", key, err)
	}
	defer closer.Close()
	return append([]byte(nil), v...), true, nil
}

// commit writes the checkpoint, the engine state and the new rows in one
// synced batch: all of it survives a crash, or none.
func (c checkpoints) commit(id workerID, cp checkpoint, state []byte, rows []pendingRow) error {
	meta, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("streamworkers: encoding the checkpoint of %s: %w", id, err)
	}
	b := c.db.NewBatch()
	defer b.Close()
	p := workerPrefix(id)
	if err := b.Set([]byte(p+"meta"), meta, nil); err != nil {
		return fmt.Errorf("streamworkers: checkpoint of %s: %w", id, err)
	}
	if err := b.Set([]byte(p+"state"), state, nil); err != nil {
		return fmt.Errorf("streamworkers: checkpoint of %s: %w", id, err)
	}
	for _, r := range rows {
		v, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("streamworkers: encoding a row of %s: %w", id, err)
		}
		if err := b.Set(outKey(id, r.Seq), v, nil); err != nil {
			return fmt.Errorf("streamworkers: checkpoint of %s: %w", id, err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("streamworkers: committing the checkpoint of %s: %w", id, err)
	}
	return nil
}

// sent forgets the pending rows up to seq (inclusive).
func (c checkpoints) sent(id workerID, seq int64) error {
	lower := []byte(workerPrefix(id) + "out/")
	if err := c.db.DeleteRange(lower, outKey(id, seq+1), pebble.NoSync); err != nil {
		return fmt.Errorf("streamworkers: forgetting sent rows of %s: %w", id, err)
	}
	return nil
}

// drop deletes everything of a worker (it was deleted).
func (c checkpoints) drop(id workerID) error {
	p := []byte(workerPrefix(id))
	if err := c.db.DeleteRange(p, prefixEnd(p), pebble.Sync); err != nil {
		return fmt.Errorf("streamworkers: dropping the checkpoint of %s: %w", id, err)
	}
	return nil
}

// ids lists the workers that have a checkpoint.
func (c checkpoints) ids() ([]workerID, error) {
	lower := []byte("w/")
	it, err := c.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)})
	if err != nil {
		return nil, fmt.Errorf("streamworkers: listing checkpoints: %w", err)
	}
	defer it.Close()
	var out []workerID
	for it.First(); it.Valid(); it.Next() {
		id, rest, ok := parseWorkerKey(string(it.Key()))
		if ok && rest == "meta" {
			out = append(out, id)
		}
	}
	return out, nil
}

// parseWorkerKey splits "w/t/f/n/rest".
func parseWorkerKey(k string) (workerID, string, bool) {
	var parts [4]string
	s := k[len("w/"):]
	for i := 0; i < 3; i++ {
		j := strings.IndexByte(s, '/')
		if j < 0 {
			return workerID{}, "", false
		}
		parts[i], s = s[:j], s[j+1:]
	}
	parts[3] = s
	return workerID{Tenant: parts[0], Fabric: parts[1], Name: parts[2]}, parts[3], true
}

// prefixEnd is the smallest key above every key starting with p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// workerID names a worker on a node.
type workerID struct {
	Tenant, Fabric, Name string
}

func (id workerID) String() string { return id.Tenant + "/" + id.Fabric + "/" + id.Name }
