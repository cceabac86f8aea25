package server

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/fabric"
	"github.com/causeway/causeway/replicator/shell"
)

// Backfill. A region added to a fabric's list at version v gets the
// fabric's data from the fabric's home, which applies every version:
// when the home has applied everything of version v-1 (every old member's
// cut applied there) and before it applies anything of v, it copies the
// fabric's collections (a consistent snapshot) and sends them, with every
// stream's records of versions before v (in log order, with their origin
// and sequence, so that each is applied once), as ops of
// shell.KindFabricBackfill in a domain of the home and the added regions,
// then an end. The added region applies them while its shell of version v
// is paused, and resumes it after the end: it then applies every op of v
// from the first. Parts are idempotent (records by origin and sequence,
// collection chunks whole), so a home that restarts sends the copy again.

// Backfill op parts.
const (
	backfillStreams     = 'S'
	backfillCollections = 'C'
	backfillEnd         = 'E'
)

// backfillChunkBytes bounds a part's records or documents.
const backfillChunkBytes = 256 << 10

// backfillInFlight bounds the parts sent and not yet applied at the home.
const backfillInFlight = 16

// backfillPart is one backfill op.
type backfillPart struct {
	Tenant, Fabric string
	Version        uint64
	Kind           byte
	// Records (streams) with their stream names; Chunk (collections);
	// Totals (end): streams, records, collections, documents.
	Names   []naming.Stream
	Records []segment.Record
	Chunk   []byte
	Totals  [4]uint64
}

// maxBackfillRecords bounds the records of one part (a sanity bound on
// input).
const maxBackfillRecords = 1 << 20

func appendBackfillString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// encodeBackfill encodes a part.
func encodeBackfill(p backfillPart) []byte {
	dst := []byte{p.Kind}
	dst = appendBackfillString(dst, p.Tenant)
	dst = appendBackfillString(dst, p.Fabric)
	dst = binary.AppendUvarint(dst, p.Version)
	switch p.Kind {
	case backfillStreams:
		dst = binary.AppendUvarint(dst, uint64(len(p.Records)))
		for i := range p.Records {
			rec := &p.Records[i]
			dst = appendBackfillString(dst, rec.Origin)
			dst = binary.AppendUvarint(dst, rec.OriginSeq)
			body := shell.AppendStreamMessage(nil, p.Names[i], rec)
			dst = binary.AppendUvarint(dst, uint64(len(body)))
			dst = append(dst, body...)
		}
	case backfillCollections:
		dst = append(dst, p.Chunk...)
	case backfillEnd:
		for _, t := range p.Totals {
			dst = binary.AppendUvarint(dst, t)
		}
	}
	return dst
}

// errBadBackfill refuses a malformed backfill op.
var errBadBackfill = errors.New("geofabrics: malformed backfill part")

// backfillReader reads a part.
type backfillReader struct {
	b   []byte
	err error
}

func (r *backfillReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: bad varint", errBadBackfill)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *backfillReader) bytes(limit int) []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(limit) || n > uint64(len(r.b)) {
		r.err = fmt.Errorf("%w: %d bytes in %d", errBadBackfill, n, len(r.b))
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

// decodeBackfill decodes and checks a part: names of the fabric, records
// with an origin and a sequence.
func decodeBackfill(payload []byte) (backfillPart, error) {
	if len(payload) == 0 {
		return backfillPart{}, fmt.Errorf("%w: empty", errBadBackfill)
	}
	p := backfillPart{Kind: payload[0]}
	r := backfillReader{b: payload[1:]}
	p.Tenant, p.Fabric = string(r.bytes(naming.MaxNameBytes)), string(r.bytes(naming.MaxNameBytes))
	p.Version = r.uvarint()
	if r.err != nil {
		return backfillPart{}, r.err
	}
	if naming.Validate("tenant", p.Tenant) != nil || naming.Validate("fabric", p.Fabric) != nil || p.Version < 2 || p.Version > maxFabricVersion {
		return backfillPart{}, fmt.Errorf("%w: fabric %q/%q version %d", errBadBackfill, p.Tenant, p.Fabric, p.Version)
	}
	switch p.Kind {
	case backfillStreams:
		n := r.uvarint()
		if r.err == nil && (n == 0 || n > maxBackfillRecords || n > uint64(len(r.b))) {
			r.err = fmt.Errorf("%w: %d records in %d bytes", errBadBackfill, n, len(r.b))
		}
		for i := uint64(0); i < n && r.err == nil; i++ {
			origin := string(r.bytes(naming.MaxNameBytes + 32))
			seq := r.uvarint()
			body := r.bytes(len(payload))
			if r.err != nil {
				break
			}
			name, rec, err := shell.DecodeStreamMessage(body)
			switch {
			case err != nil:
				r.err = fmt.Errorf("%w: record %d: %v", errBadBackfill, i, err)
			case name.Tenant != p.Tenant || name.Fabric != p.Fabric || name.Validate() != nil:
				r.err = fmt.Errorf("%w: record of %s in the backfill of %s/%s", errBadBackfill, name, p.Tenant, p.Fabric)
			case naming.Validate("region", broker.OriginRegion(origin)) != nil || seq == 0:
				r.err = fmt.Errorf("%w: record %d from %q:%d", errBadBackfill, i, origin, seq)
			}
			rec.Origin, rec.OriginSeq = origin, seq
			p.Names, p.Records = append(p.Names, name), append(p.Records, rec)
		}
		if r.err == nil && len(r.b) != 0 {
			r.err = fmt.Errorf("%w: %d trailing bytes", errBadBackfill, len(r.b))
		}
	case backfillCollections:
		if len(r.b) == 0 {
			r.err = fmt.Errorf("%w: empty collections chunk", errBadBackfill)
		}
		p.Chunk = r.b
	case backfillEnd:
		for i := range p.Totals {
			p.Totals[i] = r.uvarint()
		}
		if r.err == nil && len(r.b) != 0 {
			r.err = fmt.Errorf("%w: %d trailing bytes", errBadBackfill, len(r.b))
		}
	default:
		r.err = fmt.Errorf("%w: part %q", errBadBackfill, p.Kind)
	}
	if r.err != nil {
		return backfillPart{}, r.err
	}
	return p, nil
}

// originVersion is the list version a record was replicated under: its
// origin's tag (region@vN), 1 without one.
func originVersion(origin string) uint64 {
	_, tag, ok := strings.Cut(origin, "@v")
	if !ok {
		return 1
	}
	v, err := strconv.ParseUint(tag, 10, 64)
	if err != nil {
		return 1
	}
	return v
}

// backfillShellLocked returns the shell of version v's backfill domain,
// starting it if needed.
func (g *geoFabrics) backfillShellLocked(r *fabricRecord, v uint64) (*shell.Shell, error) {
	regions := append(r.added(v), r.Home)
	return g.domainShellLocked(backfillDomain(r.Tenant, r.Fabric, v, regions), fabric.DomainRegions(fabric.DomainKey(regions)), "", false)
}

// startBackfillLocked (the home) copies the fabric's collections now and
// sends version v's backfill in the background.
func (g *geoFabrics) startBackfillLocked(r *fabricRecord, v uint64) error {
	k := fmt.Sprintf("%s#backfill%d", r.key(), v)
	if g.running[k] {
		return nil
	}
	sh, err := g.backfillShellLocked(r, v)
	if err != nil {
		return err
	}
	snap, err := g.cols.FabricSnapshot(r.Tenant, r.Fabric)
	if err != nil {
		return err
	}
	g.running[k] = true
	tenant, name, key := r.Tenant, r.Fabric, r.key()
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer func() { _ = snap.Close() }()
		err := g.sendBackfill(sh, tenant, name, v, func(emit func([]byte) error) (int, int, error) {
			return snap.Chunks(backfillChunkBytes, emit)
		})
		g.mu.Lock()
		defer g.mu.Unlock()
		delete(g.running, k)
		if err != nil {
			g.log.Warn("send backfill", zap.String("fabric", key), zap.Uint64("version", v), zap.Error(err))
			return
		}
		r := g.recs[key]
		if r == nil {
			return
		}
		next := r.clone()
		addVersion(&next.BackfillsSent, v)
		if err := g.records.save(&next); err != nil {
			g.log.Warn("record backfill sent", zap.String("fabric", key), zap.Error(err))
			return
		}
		*r = next
	}()
	return nil
}

// sendBackfill sends version v's backfill of a fabric through sh.
func (g *geoFabrics) sendBackfill(sh *shell.Shell, tenant, name string, v uint64,
	collections func(emit func([]byte) error) (int, int, error)) error {
	started := time.Now()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		bytes int
	)
	slots := make(chan struct{}, backfillInFlight)
	send := func(p backfillPart) error {
		p.Tenant, p.Fabric, p.Version = tenant, name, v
		payload := encodeBackfill(p)
		select {
		case slots <- struct{}{}:
		case <-g.stop:
			return shell.ErrClosed
		}
		mu.Lock()
		err := first
		bytes += len(payload)
		mu.Unlock()
		if err != nil {
			<-slots
			return err
		}
		wg.Add(1)
		sh.PublishOp(shell.KindFabricBackfill, payload, func(_ replicator.Dot, err error) {
			if err != nil {
				mu.Lock()
				first = errors.Join(first, err)
				mu.Unlock()
			}
			<-slots
			wg.Done()
		})
		return nil
	}
	var totals [4]uint64
	for _, st := range g.node.Streams(tenant, name) {
		if !st.Replicated() {
			continue // a local stream (collections' op logs and change feeds)
		}
		totals[0]++
		src := st.Source()
		from, end := src.StartOffset(), src.EndOffset()
		part := backfillPart{Kind: backfillStreams}
		size := 0
		for from < end {
			recs, err := src.Read(from, 4096, 4<<20)
			if err != nil {
				return fmt.Errorf("geofabrics: backfill read %s: %w", st.Name(), err)
			}
			if len(recs) == 0 {
				break
			}
			for _, rec := range recs {
				if rec.Offset >= end {
					break
				}
				if originVersion(rec.Origin) >= v || rec.Origin == "" || rec.OriginSeq == 0 {
					continue // applied under v: its domain brings it
				}
				if len(part.Records) > 0 && size+rec.Size() > backfillChunkBytes {
					if err := send(part); err != nil {
						return err
					}
					part, size = backfillPart{Kind: backfillStreams}, 0
				}
				part.Names, part.Records = append(part.Names, st.Name()), append(part.Records, rec)
				size += rec.Size()
				totals[1]++
			}
			from = recs[len(recs)-1].Offset + 1
		}
		if len(part.Records) > 0 {
			if err := send(part); err != nil {
				return err
			}
		}
	}
	cols, docs, err := collections(func(chunk []byte) error {
		return send(backfillPart{Kind: backfillCollections, Chunk: chunk})
	})
	if err != nil {
		return err
	}
	totals[2], totals[3] = uint64(cols), uint64(docs)
	// The end only after every part is published: an added region that
	// applies the end stops waiting and skips parts that come later, so a
	// part refused while the end went out (the shell failed and healed in
	// between) would be missing there for good. A failed copy is sent
	// again whole, end last.
	waitSent := func() error {
		sent := make(chan struct{})
		go func() {
			wg.Wait()
			close(sent)
		}()
		select {
		case <-sent:
		case <-g.stop:
			return shell.ErrClosed
		}
		mu.Lock()
		defer mu.Unlock()
		return first
	}
	if err := waitSent(); err != nil {
		return err
	}
	if err := send(backfillPart{Kind: backfillEnd, Totals: totals}); err != nil {
		return err
	}
	if err := waitSent(); err != nil {
		return err
	}
	g.log.Info("backfill sent", zap.String("fabric", tenant+"/"+name), zap.Uint64("version", v),
		zap.Uint64("streams", totals[0]), zap.Uint64("records", totals[1]), zap.Int("collections", cols),
		zap.Int("documents", docs), zap.Int("bytes", bytes), zap.Duration("took", time.Since(started)))
	return nil
}

// applyBackfill is shell.KindFabricBackfill's apply function (a backfill
// domain): an added region applies the home's copy while it waits for
// it; the home and a region done with it skip it.
func (g *geoFabrics) applyBackfill(origin string, _ uint64, payload []byte) error {
	p, err := decodeBackfill(payload)
	if err != nil {
		return err
	}
	key := fabricKey(p.Tenant, p.Fabric)
	g.mu.Lock()
	r := g.recs[key]
	st := g.router.Status(key)
	waiting := r != nil && origin == r.Home && origin != g.self && st.Backfill == p.Version
	early := origin != g.self && (r == nil || st.Latest < p.Version)
	g.mu.Unlock()
	if early {
		// A part of a version this region has not learnt yet: applied
		// later from the journal. Skipped, it was missing from the copy
		// once the version was learnt and its end applied (an added region
		// was 251-2,259 messages short in 3 of 9 bench runs).
		return fmt.Errorf("%w: backfill of version %d of %s before the version is known here", shell.ErrApplyLater, p.Version, key)
	}
	if !waiting {
		return nil
	}
	if err := g.node.FabricServedHere(p.Tenant, p.Fabric); err != nil {
		// The node records the list before the router asks for a
		// backfill: never here. Applied again from the journal.
		return fmt.Errorf("%w: backfill of a fabric not served here: %w", shell.ErrApplyLater, err)
	}
	switch p.Kind {
	case backfillStreams:
		return g.applyBackfillRecords(p)
	case backfillCollections:
		return g.cols.ImportFabricChunk(p.Tenant, p.Fabric, p.Chunk)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	next := r.clone()
	addVersion(&next.Backfilled, p.Version)
	if err := g.records.save(&next); err != nil {
		return fmt.Errorf("%w: %w", shell.ErrApplyLater, err)
	}
	*r = next
	g.router.Backfilled(fabric.Tag{Fabric: key, Version: p.Version})
	g.router.Actions()
	if g.router.Status(key).Backfill == 0 {
		g.node.SetFabricCopying(p.Tenant, p.Fabric, false) // served from now on
	}
	g.log.Info("backfill applied", zap.String("fabric", key), zap.Uint64("version", p.Version), zap.Uint64("streams", p.Totals[0]),
		zap.Uint64("records", p.Totals[1]), zap.Uint64("collections", p.Totals[2]), zap.Uint64("documents", p.Totals[3]))
	g.wake()
	return nil
}

// applyBackfillRecords appends a part's records to their streams, each
// once (ApplyReplicated skips what its origin's sequence covers), and
// waits until they are durable.
func (g *geoFabrics) applyBackfillRecords(p backfillPart) error {
	for i := 0; i < len(p.Records); {
		j := i
		for j < len(p.Records) && p.Names[j] == p.Names[i] {
			j++
		}
		done := make(chan error, 1)
		g.node.ApplyReplicated(p.Names[i], p.Records[i:j], func(_ []uint64, err error) { done <- err })
		if err := <-done; err != nil {
			return fmt.Errorf("geofabrics: backfill %s: %w", p.Names[i], err)
		}
		i = j
	}
	return nil
}
