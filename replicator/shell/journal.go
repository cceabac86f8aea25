package shell

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/broker/vfs"
	"github.com/causeway/causeway/replicator"
)

// maxJournalReadBytes bounds one read of a journal.
const maxJournalReadBytes = 8 << 20

// Journal is one origin's journal as the shell uses it: a segment log of
// its own (*segment.Log) or, in a region of several nodes, the replicated
// log this node leads (region/ship.Replica), whose appends are
// acknowledged once every in-sync replica holds them.
type Journal interface {
	AppendAsync(recs []segment.Record, done func(first uint64, err error))
	Read(from uint64, maxRecords, maxBytes int) ([]segment.Record, error)
	StartOffset() uint64
	EndOffset() uint64
}

// JournalSegmentOptions returns base made fit for a journal: records as
// large as an op and its metadata, and no retention (journals are never
// trimmed; compaction below causal stability is future work).
func JournalSegmentOptions(base segment.Options) segment.Options {
	base.MaxRecordBytes = replicator.MaxBatchBytes + journalExtraRecordBytes
	base.RetentionBytes, base.RetentionAge = 0, 0
	return base
}

// journalFailed reports a journal that failed beyond a refused write (a
// segment log whose file could not be cut back).
func journalFailed(l Journal) bool {
	m, ok := l.(interface{ Metrics() segment.Metrics })
	return ok && m.Metrics().Failed
}

// journals are a node's per-origin journals: one segment log per region
// under {DataDir}/repl/{origin} (or given, Options.Journals), the record at offset seq-1 holding op
// (origin, seq): Payload the op body, Meta its causal metadata
// (replicator.AppendMeta), Origin and OriginSeq its dot, PublishTime its
// HLC wall time in ms. They are the source of truth for replicated ops and
// are never truncated (compaction below causal stability is future work).
type journals struct {
	dir   string
	logs  map[string]Journal
	own   bool // opened here, closed by close
	cache *tailCache
}

// openJournals opens (recovers) the journal of every region. A journal
// directory for a region outside the membership is an error: the data
// directory belongs to another fabric.
func openJournals(fsys vfs.FS, dir string, regions []string, opts segment.Options, log *zap.Logger) (*journals, error) {
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("shell: create %s: %w", dir, err)
	}
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("shell: list %s: %w", dir, err)
	}
	for _, n := range names {
		st, err := fsys.Stat(filepath.Join(dir, n))
		if err != nil || !st.IsDir() || slices.Contains(regions, n) || strings.HasPrefix(n, domainDirPrefix) {
			continue
		}
		return nil, fmt.Errorf("shell: %s holds the journal of region %q, which is not in the fabric %v (add it to the peers or use another data directory): %w",
			dir, n, regions, ErrJournal)
	}
	j := &journals{dir: dir, logs: make(map[string]Journal, len(regions)), own: true, cache: newTailCache()}
	for _, r := range regions {
		o := opts
		o.Logger = log.With(zap.String("journal", r))
		l, err := segment.Open(fsys, filepath.Join(dir, r), o)
		if err != nil {
			_ = j.close()
			return nil, fmt.Errorf("shell: open journal of %s: %w", r, err)
		}
		if l.StartOffset() != 0 {
			_ = l.Close()
			_ = j.close()
			return nil, fmt.Errorf("shell: journal of %s starts at %d: %w", r, l.StartOffset(), ErrJournal)
		}
		j.logs[r] = l
	}
	return j, nil
}

// givenJournals takes the journals of Options.Journals: one for every
// region, each starting at offset 0.
func givenJournals(fsys vfs.FS, dir string, regions []string, given map[string]Journal) (*journals, error) {
	if err := fsys.MkdirAll(dir, 0o755); err != nil { // the heal probe writes there
		return nil, fmt.Errorf("shell: create %s: %w", dir, err)
	}
	j := &journals{dir: dir, logs: make(map[string]Journal, len(regions)), cache: newTailCache()}
	for _, r := range regions {
		l := given[r]
		if l == nil {
			return nil, fmt.Errorf("shell: no journal given for region %s: %w", r, ErrJournal)
		}
		if l.StartOffset() != 0 {
			return nil, fmt.Errorf("shell: journal of %s starts at %d: %w", r, l.StartOffset(), ErrJournal)
		}
		j.logs[r] = l
	}
	if len(given) != len(regions) {
		return nil, fmt.Errorf("shell: %d journals given for the %d regions %v: %w", len(given), len(regions), regions, ErrJournal)
	}
	return j, nil
}

// ends returns how many ops of each origin are journaled.
func (j *journals) ends() replicator.Vector {
	v := make(replicator.Vector, len(j.logs))
	for o, l := range j.logs {
		if e := l.EndOffset(); e > 0 {
			v[o] = e
		}
	}
	return v
}

// ReadJournal implements replicator.JournalReader.
func (j *journals) ReadJournal(origin string, from, to uint64) ([]replicator.JournalEntry, error) {
	l := j.logs[origin]
	if l == nil {
		return nil, fmt.Errorf("shell: journal of %q: %w", origin, replicator.ErrUnknownRegion)
	}
	if from == 0 || to < from {
		return nil, fmt.Errorf("shell: read journal of %s %d..%d: %w", origin, from, to, segment.ErrInvalidArgument)
	}
	if out, ok := j.cache.get(origin, from, to); ok {
		return out, nil
	}
	out := make([]replicator.JournalEntry, 0, min(to-from+1, 4096))
	for off := from - 1; off < to; {
		recs, err := l.Read(off, int(min(to-off, 1<<20)), maxJournalReadBytes)
		if err != nil {
			return nil, fmt.Errorf("shell: read journal of %s at %d: %w", origin, off+1, err)
		}
		if len(recs) == 0 {
			return nil, fmt.Errorf("shell: journal of %s ends at %d, asked up to %d: %w", origin, off, to, ErrJournal)
		}
		for _, r := range recs {
			if r.OriginSeq != r.Offset+1 || r.Origin != origin {
				return nil, fmt.Errorf("shell: journal of %s: record %d holds %s:%d: %w", origin, r.Offset, r.Origin, r.OriginSeq, ErrJournal)
			}
			out = append(out, replicator.JournalEntry{Seq: r.OriginSeq, Meta: r.Meta, Body: r.Payload, Order: recordOrder(r)})
		}
		off = recs[len(recs)-1].Offset + 1
	}
	return out, nil
}

// recordOrder is a journal record's JournalEntry.Order, kept in its
// SequenceID (journal records have no producer).
func recordOrder(r segment.Record) uint64 {
	if r.SequenceID <= 0 {
		return 0
	}
	return uint64(r.SequenceID)
}

// lastOrder returns the highest JournalEntry.Order journaled: the apply
// order goes on after it.
func (j *journals) lastOrder() (uint64, error) {
	var last uint64
	for o, l := range j.logs {
		end := l.EndOffset()
		if end == 0 {
			continue
		}
		recs, err := l.Read(end-1, 1, maxJournalReadBytes)
		if err != nil {
			return 0, fmt.Errorf("shell: read the end of the journal of %s: %w", o, err)
		}
		if len(recs) > 0 {
			last = max(last, recordOrder(recs[0]))
		}
	}
	return last, nil
}

// close closes every journal.
func (j *journals) close() error {
	if !j.own {
		return nil
	}
	var errs []error
	for o, jl := range j.logs {
		l := jl.(*segment.Log)
		if err := l.Close(); err != nil && !errors.Is(err, segment.ErrClosed) {
			errs = append(errs, fmt.Errorf("shell: close journal of %s: %w", o, err))
		}
	}
	return errors.Join(errs...)
}

// isNotExist reports a missing file.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
