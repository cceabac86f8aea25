package shell

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/causeway/causeway/broker/vfs"
	"github.com/causeway/causeway/replicator"
)

// StateStore keeps the shell's small durable records where whoever runs
// the region's replication next finds them: in a region of several nodes
// the region's replicated key-value map, so that the node taking over the
// journals starts from the applied watermark, the evictions and the join
// mark its predecessor left (server wires it). Without one the records are
// files in the replication directory.
type StateStore interface {
	// Load returns a record and whether it exists.
	Load(ctx context.Context, name string) ([]byte, bool, error)
	// Save replaces a record durably; nil deletes it.
	Save(ctx context.Context, name string, b []byte) error
}

// Record names in a StateStore.
const (
	StateApplied = "applied" // the applied watermark (JSON appliedState)
	StateEvicted = "evicted" // the evicted regions (JSON evictedState)
	StateJoining = "joining" // present while the region joins the fabric
)

// stateTimeout bounds one StateStore call.
const stateTimeout = 10 * time.Second

// records is the shell's view of its durable records: the StateStore of
// Options, or files in dir.
type records struct {
	store StateStore // nil: files
	fs    vfs.FS
	dir   string
}

func (r records) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), stateTimeout)
}

func (r records) applied() (replicator.Vector, error) {
	if r.store == nil {
		return loadApplied(r.dir)
	}
	ctx, cancel := r.ctx()
	defer cancel()
	b, ok, err := r.store.Load(ctx, StateApplied)
	if err != nil {
		return nil, fmt.Errorf("shell: read applied watermark: %w", err)
	}
	var st appliedState
	if ok {
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("shell: applied watermark: %v: %w", err, ErrJournal)
		}
	}
	if st.Applied == nil {
		st.Applied = replicator.Vector{}
	}
	return st.Applied, nil
}

func (r records) saveApplied(v replicator.Vector) error {
	if r.store == nil {
		return saveApplied(r.fs, r.dir, v)
	}
	b, err := json.Marshal(appliedState{Applied: v})
	if err != nil {
		return fmt.Errorf("shell: encode applied watermark: %w", err)
	}
	ctx, cancel := r.ctx()
	defer cancel()
	if err := r.store.Save(ctx, StateApplied, b); err != nil {
		return fmt.Errorf("shell: save applied watermark: %w", err)
	}
	return nil
}

func (r records) evicted() ([]string, error) {
	if r.store == nil {
		return loadEvicted(r.dir)
	}
	ctx, cancel := r.ctx()
	defer cancel()
	b, ok, err := r.store.Load(ctx, StateEvicted)
	if err != nil || !ok {
		if err != nil {
			err = fmt.Errorf("shell: read evicted regions: %w", err)
		}
		return nil, err
	}
	var st evictedState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("shell: evicted regions: %v: %w", err, ErrJournal)
	}
	return st.Evicted, nil
}

func (r records) saveEvicted(regions []string) error {
	b, err := json.Marshal(evictedState{Evicted: regions})
	if err != nil {
		return err
	}
	if r.store == nil {
		return vfs.WriteFileAtomic(r.fs, filepath.Join(r.dir, evictedFile), b, 0o644)
	}
	ctx, cancel := r.ctx()
	defer cancel()
	if err := r.store.Save(ctx, StateEvicted, b); err != nil {
		return fmt.Errorf("shell: save evicted regions: %w", err)
	}
	return nil
}

func (r records) joinMark() (bool, error) {
	if r.store == nil {
		return hasJoinMark(r.fs, r.dir)
	}
	ctx, cancel := r.ctx()
	defer cancel()
	_, ok, err := r.store.Load(ctx, StateJoining)
	if err != nil {
		return false, fmt.Errorf("shell: join marker: %w", err)
	}
	return ok, nil
}

func (r records) setJoinMark(on bool) error {
	if r.store == nil {
		return setJoinMark(r.fs, r.dir, on)
	}
	var b []byte
	if on {
		b = []byte("1")
	}
	ctx, cancel := r.ctx()
	defer cancel()
	if err := r.store.Save(ctx, StateJoining, b); err != nil {
		return fmt.Errorf("shell: join marker: %w", err)
	}
	return nil
}
