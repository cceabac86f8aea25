package service

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/aql"
	"github.com/causeway/causeway/collections/query"
	"github.com/causeway/causeway/collections/store"
)

// CursorOptions are ArangoDB's cursor options beyond the query text.
type CursorOptions struct {
	// Count answers the total number of rows (the query runs to its end
	// before the first batch).
	Count bool
	// FullCount answers, in extra.stats, the rows before the query's last
	// top-level LIMIT (AQL; the query runs to its end).
	FullCount bool
}

// maxMaterializedBytes bounds the rows a query holds when it must run to
// its end before answering (count, fullCount, writes).
const maxMaterializedBytes = 256 << 20

// QueryAQL runs an AQL query and returns its first batch; when more rows
// follow, the batch names a cursor for NextBatch. A query that writes runs
// to its end first: its writes go through Write, the same path as the
// document API (op log, view, change feed, replication).
func (s *Service) QueryAQL(tenant, fabric string, req QueryRequest, co CursorOptions) (Batch, error) {
	size, err := s.batchSize(req.BatchSize)
	if err != nil {
		return Batch{}, err
	}
	ttl, err := s.cursorTTL(req.TTL)
	if err != nil {
		return Batch{}, err
	}
	if err := s.checkFabric(tenant, fabric); err != nil {
		return Batch{}, err
	}
	if len(req.Params.Positional) > 0 {
		return Batch{}, fmt.Errorf("%w: AQL takes bindVars as an object (@name, @@collection)", ErrBadRequest)
	}
	q, err := s.aqlQueries.parse(req.Query)
	if err != nil {
		return Batch{}, err
	}
	timer := &deadlineIter{now: time.Now, deadline: time.Now().Add(s.opts.MaxQueryTime)}
	src := s.aqlSource(tenant, fabric)
	rows, err := q.Run(aql.Options{
		Params:        req.Params.Named,
		Source:        src,
		Writer:        &aqlWriter{s: s, tenant: tenant, fabric: fabric},
		Now:           s.opts.Now(),
		Seed:          randomSeed(),
		MaxMemoryRows: s.opts.MaxMemoryRows,
		FullCount:     co.FullCount,
		Check:         timer.check,
	})
	if err != nil {
		src.close()
		return Batch{}, err
	}
	cur := &cursor{
		tenant: tenant, fabric: fabric, batchSize: size, ttl: ttl,
		snap: src.snap, timer: timer, next: rows.Next,
		release: func() { rows.Close(); src.closeLatest() },
		scanned: rows.Scanned, warnings: rows.Warnings,
	}
	if co.Count || co.FullCount || q.Writes() {
		all, err := materialize(rows.Next, s.opts.MaxMemoryRows)
		if err != nil {
			cur.close()
			if errors.Is(err, ErrQueryTimeout) {
				return Batch{}, fmt.Errorf("%w (%s): narrow the query or add an index", ErrQueryTimeout, s.opts.MaxQueryTime)
			}
			return Batch{}, err
		}
		if co.Count {
			n := int64(len(all))
			cur.count = &n
		}
		cur.next = sliceRows(all)
	}
	b, err := s.fill(cur, false)
	if err == nil && co.FullCount {
		n := rows.FullCount()
		if n < 0 {
			n = int64(len(b.Result)) // no LIMIT: every row
			if cur.count != nil {
				n = *cur.count
			}
		}
		b.Extra.Stats.FullCount = &n
	}
	return b, err
}

// materialize reads every row (within the memory bounds).
func materialize(next func() ([]byte, bool, error), maxRows int) ([][]byte, error) {
	var all [][]byte
	bytes := 0
	for {
		r, ok, err := next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return all, nil
		}
		bytes += len(r)
		if len(all) >= maxRows || bytes > maxMaterializedBytes {
			return nil, fmt.Errorf("%w: the query answers more than %d rows or %d bytes, too many to count or to hold while it writes", ErrTooLarge, maxRows, maxMaterializedBytes)
		}
		all = append(all, r)
	}
}

func sliceRows(all [][]byte) func() ([]byte, bool, error) {
	i := 0
	return func() ([]byte, bool, error) {
		if i >= len(all) {
			return nil, false, nil
		}
		i++
		r := all[i-1]
		all[i-1] = nil
		return r, true, nil
	}
}

func randomSeed() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// check is the AQL time limit (aql.Options.Check).
func (d *deadlineIter) check() error {
	if d.now().After(d.deadline) {
		return ErrQueryTimeout
	}
	return nil
}

// aqlSource reads a query's collections from one snapshot of the view.
type aqlSource struct {
	s              *Service
	tenant, fabric string
	snap           *store.Snapshot
	now            uint64
	cols           map[string]*collection
	latest         []*store.Snapshot
}

func (s *Service) aqlSource(tenant, fabric string) *aqlSource {
	return &aqlSource{s: s, tenant: tenant, fabric: fabric, snap: s.store.Snapshot(), now: s.now(), cols: map[string]*collection{}}
}

func (a *aqlSource) close() {
	a.closeLatest()
	_ = a.snap.Close()
}

func (a *aqlSource) closeLatest() {
	for _, sn := range a.latest {
		_ = sn.Close()
	}
	a.latest = nil
}

func (a *aqlSource) coll(name string) (*collection, error) {
	if c, ok := a.cols[name]; ok {
		return c, nil
	}
	c, err := a.s.collection(Ref{Tenant: a.tenant, Fabric: a.fabric, Collection: name})
	if err != nil {
		return nil, err
	}
	a.cols[name] = c
	return c, nil
}

func (a *aqlSource) Indexes(name string) ([]query.Index, error) {
	c, err := a.coll(name)
	if err != nil {
		return nil, err
	}
	return c.info.Load().QueryIndexes(), nil
}

func (a *aqlSource) Scan(name string, acc query.Access) (aql.DocIter, error) {
	c, err := a.coll(name)
	if err != nil {
		return nil, err
	}
	return a.snap.Docs(c.info.Load().ID, acc, a.now)
}

// ScanLatest reads a new snapshot (UPSERT's lookup sees the query's own
// writes); it is released with the iterator.
func (a *aqlSource) ScanLatest(name string, acc query.Access) (aql.DocIter, error) {
	c, err := a.coll(name)
	if err != nil {
		return nil, err
	}
	sn := a.s.store.Snapshot()
	it, err := sn.Docs(c.info.Load().ID, acc, a.s.now())
	if err != nil {
		_ = sn.Close()
		return nil, err
	}
	return &snapIter{DocIter: it, sn: sn}, nil
}

type snapIter struct {
	*store.DocIter
	sn *store.Snapshot
}

func (s *snapIter) Close() error {
	err := s.DocIter.Close()
	_ = s.sn.Close()
	return err
}

// aqlWriter performs a query's writes through Write.
type aqlWriter struct {
	s              *Service
	tenant, fabric string
}

var writeKinds = map[aql.WriteKind]WriteKind{aql.WriteInsert: Insert, aql.WriteUpdate: Update, aql.WriteReplace: Replace, aql.WriteRemove: Delete}

var overwriteModes = map[aql.Overwrite]OverwriteMode{
	aql.OverwriteConflict: OverwriteConflict, aql.OverwriteReplace: OverwriteReplace,
	aql.OverwriteUpdate: OverwriteUpdate, aql.OverwriteIgnore: OverwriteIgnore,
}

func (w *aqlWriter) Write(name string, ins []aql.Intent, ignoreErrors bool) ([]aql.Outcome, error) {
	ref := Ref{Tenant: w.tenant, Fabric: w.fabric, Collection: name}
	ws := make([]Write, len(ins))
	for i, in := range ins {
		ws[i] = Write{
			Kind: writeKinds[in.Kind], Key: in.Key, Doc: in.Doc, IfRev: in.IfRev,
			Overwrite: overwriteModes[in.Overwrite], KeepNull: in.KeepNull, MergeObjects: in.MergeObjects,
			ReturnOld: true, ReturnNew: true,
		}
		if ws[i].Doc == nil {
			ws[i].Doc = map[string]any{}
		}
	}
	var res []Result
	var err error
	switch {
	case ignoreErrors:
		res, err = w.s.Write(ref, ws)
	case distinctKeys(ws):
		// All or nothing: checked and written under the collection's lock.
		var applied bool
		res, applied, err = w.s.WriteAll(ref, ws)
		if err == nil && !applied {
			for _, r := range res {
				if r.Err != nil {
					return nil, r.Err
				}
			}
		}
	default:
		// A key written twice: check the chunk following its own writes
		// before writing any of it (a concurrent write may still come in
		// between).
		if err := w.precheck(ref, ws); err != nil {
			return nil, err
		}
		res, err = w.s.Write(ref, ws)
	}
	if err != nil {
		return nil, err
	}
	out := make([]aql.Outcome, len(res))
	for i, r := range res {
		out[i] = aql.Outcome{Key: r.Key, Rev: r.Rev, Old: r.Old, New: r.New, Err: r.Err}
	}
	return out, nil
}

func distinctKeys(ws []Write) bool {
	seen := make(map[string]bool, len(ws))
	for _, w := range ws {
		if w.Key == "" {
			continue
		}
		if seen[w.Key] {
			return false
		}
		seen[w.Key] = true
	}
	return true
}

// precheck finds the first write of a chunk the write path would refuse
// for the documents' current state (missing, existing, _rev), following
// the chunk's own writes.
func (w *aqlWriter) precheck(ref Ref, ws []Write) error {
	type state struct {
		exists bool
		rev    string
	}
	seen := map[string]state{}
	for _, wr := range ws {
		if wr.Key == "" {
			continue // a generated key is new
		}
		if err := collections.ValidateKey(wr.Key); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		st, ok := seen[wr.Key]
		if !ok {
			_, rev, err := w.s.Document(ref, wr.Key)
			switch {
			case err == nil:
				st = state{exists: true, rev: rev}
			case errors.Is(err, ErrDocumentNotFound):
			default:
				return err
			}
		}
		switch wr.Kind {
		case Insert:
			if st.exists && wr.Overwrite == OverwriteConflict {
				return fmt.Errorf("%w: %s/%s", ErrKeyExists, ref.Collection, wr.Key)
			}
			seen[wr.Key] = state{exists: true}
			continue
		case Update, Replace, Delete:
			if !st.exists {
				return fmt.Errorf("%w: %s/%s", ErrDocumentNotFound, ref.Collection, wr.Key)
			}
			if wr.IfRev != "" && st.rev != "" && wr.IfRev != st.rev {
				return fmt.Errorf("%w: %s/%s has _rev %q, the query expects %q", ErrPrecondition, ref.Collection, wr.Key, st.rev, wr.IfRev)
			}
		}
		seen[wr.Key] = state{exists: wr.Kind != Delete}
	}
	return nil
}

// queryParamNames lists the named parameters of a query in either
// language (a saved query's defaults must be among them).
func queryParamNames(text string) ([]string, error) {
	if aql.IsAQL(text) {
		q, err := aql.Parse(text)
		if err != nil {
			return nil, err
		}
		return q.Params(), nil
	}
	q, err := query.Parse(text)
	if err != nil {
		return nil, err
	}
	return q.ParamNames(), nil
}

// ExplainAQL returns the plan an AQL query would run with.
func (s *Service) ExplainAQL(tenant, fabric, text string, params map[string]any) (aql.Explanation, error) {
	if err := s.checkFabric(tenant, fabric); err != nil {
		return aql.Explanation{}, err
	}
	q, err := s.aqlQueries.parse(text)
	if err != nil {
		return aql.Explanation{}, err
	}
	src := s.aqlSource(tenant, fabric)
	defer src.close()
	return q.Explain(params, src)
}

// locateAQL is LocateQuery for AQL: the node serving the first collection
// the text names (or @@parameter collections, unknown here: this node).
// A query over collections served by different nodes of a region is not
// supported yet.
func (s *Service) locateAQL(tenant, fabric, text string) error {
	q, err := s.aqlQueries.parse(text)
	if err != nil || len(q.Collections()) == 0 {
		return nil
	}
	return s.Locate(Ref{Tenant: tenant, Fabric: fabric, Collection: q.Collections()[0]})
}
