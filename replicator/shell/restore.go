package shell

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/causeway/causeway/broker/vfs"
	"github.com/causeway/causeway/replicator"
)

// Restart. The journals are written in parallel (one segment log per
// origin), so a crash can leave an op durable in its journal while an op it
// depends on, in another journal, is not. The shell therefore restores the
// engine at the largest causally consistent cut of the journals: an op of a
// remote origin counts as delivered only when every op it depends on does.
// Ops beyond the cut stay in their journals; the engine receives them
// again from peers, and the shell then skips their journal append (the op
// is there) and applies them in causal order. Own ops are always kept (they
// are the origin's log and nobody else has them); one whose dependencies
// are missing was never acknowledged or sent, and is applied last.
//
// Streams are materializations of the journals: the applied watermark
// (every op at or below it is in its stream; saved to applied.json) is a
// consistent cut too, and the journal tails past it are re-applied in
// causal order, idempotently on (Origin, OriginSeq).

// restoreOp is one journaled op with its full dependency vector and its
// place in the order the region applied its ops (0: not recorded).
type restoreOp struct {
	Seq   uint64
	Deps  replicator.Vector
	Body  []byte
	Order uint64
}

// restoreCursor yields one origin's journaled ops in seq order.
type restoreCursor interface {
	// Peek returns the next op, or nil at the end.
	Peek() (*restoreOp, error)
	// Next moves past the op Peek returned.
	Next()
}

// mergeApplied calls apply for the ops of every cursor in the order the
// region first applied them (restoreOp.Order), as long as that order is
// recorded, dense and causal: a global stream is appended without fsync
// (its journal makes it durable), so its records past the watermark that
// a crash lost are re-derived here, and must come back at the offsets
// consumers may have seen. It stops at the first gap: an op after one was
// not applied before the crash (its step's journal writes were not all
// durable), so mergeCausal may take the rest in any causal order. It
// returns the applied vector at the end.
func mergeApplied(applied replicator.Vector, cursors map[string]restoreCursor,
	apply func(origin string, op *restoreOp) error) (replicator.Vector, error) {
	applied = applied.Clone()
	if applied == nil {
		applied = replicator.Vector{}
	}
	origins := slices.Sorted(maps.Keys(cursors))
	var last uint64
	for {
		var next string
		var op *restoreOp
		for _, o := range origins {
			p, err := cursors[o].Peek()
			if err != nil {
				return nil, err
			}
			if p != nil && (op == nil || p.Order < op.Order) {
				next, op = o, p
			}
		}
		if op == nil || op.Order == 0 || (last != 0 && op.Order != last+1) ||
			op.Seq != applied[next]+1 || !depsApplied(next, op.Deps, applied) {
			return applied, nil
		}
		if err := apply(next, op); err != nil {
			return nil, err
		}
		applied[next], last = op.Seq, op.Order
		cursors[next].Next()
	}
}

// mergeCausal calls apply for the ops of every cursor in a causal order,
// starting from the applied vector (every op at or below it counts as
// applied): an op goes once every dependency has. When no op can go and
// self's cursor has ops left, self's next op is forced. It returns the
// applied vector at the end: for remote origins, the consistent cut.
func mergeCausal(self string, applied replicator.Vector, cursors map[string]restoreCursor,
	apply func(origin string, op *restoreOp) error) (replicator.Vector, error) {
	applied = applied.Clone()
	if applied == nil {
		applied = replicator.Vector{}
	}
	origins := make([]string, 0, len(cursors))
	for o := range cursors {
		origins = append(origins, o)
	}
	slices.Sort(origins)
	step := func(o string, op *restoreOp) error {
		if op.Seq != applied[o]+1 {
			return fmt.Errorf("shell: restore %s: op %d after %d: %w", o, op.Seq, applied[o], ErrJournal)
		}
		if err := apply(o, op); err != nil {
			return err
		}
		applied[o] = op.Seq
		cursors[o].Next()
		return nil
	}
	for {
		progress := false
		for _, o := range origins {
			for {
				op, err := cursors[o].Peek()
				if err != nil {
					return nil, err
				}
				if op == nil || !depsApplied(o, op.Deps, applied) {
					break
				}
				if err := step(o, op); err != nil {
					return nil, err
				}
				progress = true
			}
		}
		if progress {
			continue
		}
		c := cursors[self]
		if c == nil {
			return applied, nil
		}
		op, err := c.Peek()
		if err != nil {
			return nil, err
		}
		if op == nil {
			return applied, nil
		}
		if err := step(self, op); err != nil {
			return nil, err
		}
	}
}

// depsApplied reports whether every dependency of an op of origin o is
// applied.
func depsApplied(o string, deps, applied replicator.Vector) bool {
	for r, v := range deps {
		if r != o && v > applied[r] {
			return false
		}
	}
	return true
}

// restoreChunkOps bounds the ops a journal cursor reads at once.
const restoreChunkOps = 1024

// journalCursor reads one origin's journal from a seq on, rebuilding each
// op's full dependency vector from the journal metadata (starting at the
// keyframe at or before the first op).
type journalCursor struct {
	j       *journals
	origin  string
	next    uint64 // seq of the next op
	end     uint64 // last seq to yield
	running replicator.Vector
	buf     []replicator.JournalEntry
	pos     int
	cur     *restoreOp
}

// newJournalCursor returns a cursor over origin's ops from..end.
func newJournalCursor(j *journals, origin string, from, end uint64) (*journalCursor, error) {
	c := &journalCursor{j: j, origin: origin, next: from, end: end, running: replicator.Vector{}}
	if from > end || from == 0 {
		return c, nil
	}
	if kf := replicator.KeyframeAtOrBefore(from); kf < from {
		entries, err := j.ReadJournal(origin, kf, from-1)
		if err != nil {
			return nil, err
		}
		for i, e := range entries {
			keyframe, err := c.walk(e)
			if err != nil {
				return nil, err
			}
			if i == 0 && !keyframe {
				return nil, fmt.Errorf("shell: journal of %s: op %d is not a keyframe: %w", origin, e.Seq, ErrJournal)
			}
		}
	}
	return c, nil
}

// walk applies an entry's metadata to the running vector.
func (c *journalCursor) walk(e replicator.JournalEntry) (bool, error) {
	m, err := replicator.DecodeMeta(e.Meta)
	if err != nil {
		return false, fmt.Errorf("shell: journal of %s op %d: %w", c.origin, e.Seq, err)
	}
	if m.Keyframe {
		clear(c.running)
	}
	for _, d := range m.Deps {
		if d.Seq > c.running[d.Region] {
			c.running[d.Region] = d.Seq
		}
	}
	return m.Keyframe, nil
}

func (c *journalCursor) Peek() (*restoreOp, error) {
	if c.cur != nil {
		return c.cur, nil
	}
	if c.next > c.end || c.next == 0 {
		return nil, nil
	}
	if c.pos >= len(c.buf) {
		buf, err := c.j.ReadJournal(c.origin, c.next, min(c.end, c.next+restoreChunkOps-1))
		if err != nil {
			return nil, err
		}
		c.buf, c.pos = buf, 0
	}
	e := c.buf[c.pos]
	if _, err := c.walk(e); err != nil {
		return nil, err
	}
	c.cur = &restoreOp{Seq: e.Seq, Deps: c.running.Clone(), Body: e.Body, Order: e.Order}
	return c.cur, nil
}

func (c *journalCursor) Next() {
	c.cur = nil
	c.pos++
	c.next++
}

// appliedFile holds the applied watermark.
const appliedFile = "applied.json"

type appliedState struct {
	Applied replicator.Vector `json:"applied"`
}

// loadApplied reads the applied watermark (empty when missing).
func loadApplied(dir string) (replicator.Vector, error) {
	b, err := os.ReadFile(filepath.Join(dir, appliedFile))
	if isNotExist(err) {
		return replicator.Vector{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("shell: read applied watermark: %w", err)
	}
	var st appliedState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("shell: applied watermark %s: %v: %w", filepath.Join(dir, appliedFile), err, ErrJournal)
	}
	if st.Applied == nil {
		st.Applied = replicator.Vector{}
	}
	return st.Applied, nil
}

// saveApplied writes the applied watermark durably.
func saveApplied(fsys vfs.FS, dir string, v replicator.Vector) error {
	b, err := json.Marshal(appliedState{Applied: v})
	if err != nil {
		return fmt.Errorf("shell: encode applied watermark: %w", err)
	}
	if err := vfs.WriteFileAtomic(fsys, filepath.Join(dir, appliedFile), b, 0o644); err != nil {
		return fmt.Errorf("shell: save applied watermark: %w", err)
	}
	return nil
}
