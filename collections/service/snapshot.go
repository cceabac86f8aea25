package service

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/store"
)

// Snapshots. A region bootstraps from another region's view instead of
// replaying history: WriteSnapshot streams a consistent copy of the view
// (every collection's description, document states and applied vector,
// the saved queries) with the replicated vector it reflects (the highest
// replicator seq applied per origin, taken while no replicated payload is
// being applied). loadSnapshot writes it into an empty view; the region's
// ApplyReplicated then skips every payload at or below that vector, and
// the document ops after it that the snapshot already holds (ops of the
// serving region not yet shipped when it was taken) are duplicates by
// their collection dots.
//
// Stream format: frames of uvarint length, then a type byte and a body:
//
//	'H' header: JSON {"version":1,"region":..., "replApplied":{origin:seq}}
//	'C' collection: JSON {"info":CollectionInfo,"applied":{region:seq},"hlc":n}
//	'D' document of the last collection: uvarint key length, key, state
//	    (collections.Doc binary)
//	'Q' saved query: JSON {"tenant","fabric","query":SavedQuery}
//	'E' end: JSON {"collections":n,"documents":n}

const snapshotVersion = 1

// maxSnapshotFrameBytes bounds one frame (a document state or a
// description).
const maxSnapshotFrameBytes = 64 << 20

type snapshotHeader struct {
	Version     int               `json:"version"`
	Region      string            `json:"region"`
	ReplApplied map[string]uint64 `json:"replApplied"`
}

type snapshotCollection struct {
	Info    store.CollectionInfo `json:"info"`
	Applied map[string]uint64    `json:"applied"`
	HLC     uint64               `json:"hlc"`
}

type snapshotQuery struct {
	Tenant string           `json:"tenant"`
	Fabric string           `json:"fabric"`
	Query  store.SavedQuery `json:"query"`
}

type snapshotEnd struct {
	Collections int `json:"collections"`
	Documents   int `json:"documents"`
}

// WriteSnapshot writes a consistent snapshot of the view to w for region
// forRegion to bootstrap from: collections and saved queries of a fabric
// pinned to regions without it are left out, and so are the replicated
// vector's entries of pinned domains without it (nothing of a pinned
// fabric leaves its regions; README "Geo-fabrics"). An empty forRegion
// leaves out every pinned fabric.
func (s *Service) WriteSnapshot(w io.Writer, forRegion string) error {
	if s.clustered() {
		// A node's view holds only the collections it served, each as of
		// when it last did: not a region's state.
		return fmt.Errorf("%w: snapshots of a region of several nodes (bootstrap a new region from a region of one node)", ErrNotImplemented)
	}
	s.replMu.Lock()
	sn := s.store.Snapshot()
	head := snapshotHeader{Version: snapshotVersion, Region: s.region, ReplApplied: s.replAppliedCopy()}
	s.replMu.Unlock()
	maps.DeleteFunc(head.ReplApplied, func(key string, _ uint64) bool { return !replKeyServes(key, forRegion) })
	served := func(tenant, fabric string) bool {
		fi, found := s.node.Fabric(tenant, fabric)
		return !found || (forRegion != "" && fi.ServedIn(forRegion))
	}
	defer sn.Close()
	bw := bufio.NewWriterSize(w, 256<<10)
	fw := frameWriter{w: bw}
	fw.json('H', head)
	infos, err := sn.Collections()
	if err != nil {
		return err
	}
	var end snapshotEnd
	for _, info := range infos {
		if !served(info.Tenant, info.Fabric) {
			continue
		}
		end.Collections++
		applied, hlc, err := sn.Applied(info.ID)
		if err != nil {
			return err
		}
		m := make(map[string]uint64, len(applied))
		for _, e := range applied {
			m[e.Region] = e.Seq
		}
		fw.json('C', snapshotCollection{Info: info, Applied: m, HLC: hlc})
		err = sn.States(info.ID, func(key string, state []byte) error {
			body := binary.AppendUvarint(nil, uint64(len(key)))
			body = append(body, key...)
			fw.frame('D', append(body, state...))
			end.Documents++
			return fw.err
		})
		if err != nil {
			return err
		}
	}
	err = sn.SavedQueriesAll(func(tenant, fabric string, q store.SavedQuery) error {
		if !served(tenant, fabric) {
			return nil
		}
		fw.json('Q', snapshotQuery{Tenant: tenant, Fabric: fabric, Query: q})
		return fw.err
	})
	if err != nil {
		return err
	}
	fw.json('E', end)
	if fw.err != nil {
		return fmt.Errorf("collections: write snapshot: %w", fw.err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("collections: write snapshot: %w", err)
	}
	return nil
}

type frameWriter struct {
	w   io.Writer
	err error
}

func (f *frameWriter) frame(typ byte, body []byte) {
	if f.err != nil {
		return
	}
	hdr := binary.AppendUvarint(nil, uint64(len(body)+1))
	hdr = append(hdr, typ)
	if _, f.err = f.w.Write(hdr); f.err == nil {
		_, f.err = f.w.Write(body)
	}
}

func (f *frameWriter) json(typ byte, v any) {
	b, err := json.Marshal(v)
	if err != nil && f.err == nil {
		f.err = err
	}
	f.frame(typ, b)
}

// snapshotBatchDocs bounds the documents written per view batch while
// loading.
const snapshotBatchDocs = 1000

// loadSnapshot reads a snapshot from r into st, which must be empty. It
// validates everything it reads; on error st holds part of the snapshot
// (the caller wipes it before trying again).
func loadSnapshot(st *store.Store, r io.Reader) (snapshotHeader, snapshotEnd, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrCorruptSnapshot, fmt.Sprintf(format, args...))
	}
	var head snapshotHeader
	typ, body, err := readFrame(br)
	if err != nil {
		return head, snapshotEnd{}, err
	}
	if typ != 'H' {
		return head, snapshotEnd{}, fail("first frame %q, want a header", typ)
	}
	if err := strictJSON(body, &head); err != nil || head.Version != snapshotVersion {
		return head, snapshotEnd{}, fail("header: version %d: %v", head.Version, err)
	}
	if err := checkReplVector(head.ReplApplied); err != nil {
		return head, snapshotEnd{}, fail("header: %v", err)
	}
	var got snapshotEnd
	var cur *store.CollectionInfo
	ids := map[uint64]bool{}
	var b *store.Batch
	batched := 0
	flush := func() error {
		if b == nil {
			return nil
		}
		err := b.Commit()
		b.Close()
		b, batched = nil, 0
		return err
	}
	defer func() {
		if b != nil {
			b.Close()
		}
	}()
	for {
		typ, body, err := readFrame(br)
		if err != nil {
			return head, got, err
		}
		switch typ {
		case 'C':
			if err := flush(); err != nil {
				return head, got, err
			}
			var c snapshotCollection
			if err := strictJSON(body, &c); err != nil {
				return head, got, fail("collection: %v", err)
			}
			if err := checkSnapshotInfo(&c.Info); err != nil || ids[c.Info.ID] {
				return head, got, fail("collection %q (id %d): %v", c.Info.Name, c.Info.ID, err)
			}
			if err := checkVectorMap(c.Applied); err != nil {
				return head, got, fail("collection %q: %v", c.Info.Name, err)
			}
			ids[c.Info.ID] = true
			c.Info.ChangeSeqBase = 0 // this region's change feed starts empty
			if err := st.ImportCollection(c.Info, collections.VectorOf(c.Applied), c.HLC, 0); err != nil {
				return head, got, err
			}
			info := c.Info
			cur = &info
			got.Collections++
		case 'D':
			if cur == nil {
				return head, got, fail("document before any collection")
			}
			key, doc, err := parseDocFrame(body, cur.Name)
			if err != nil {
				return head, got, fail("%v", err)
			}
			if b == nil {
				b = st.NewBatch()
			}
			if err := b.PutDoc(cur, key, nil, doc); err != nil {
				return head, got, err
			}
			got.Documents++
			if batched++; batched >= snapshotBatchDocs {
				if err := flush(); err != nil {
					return head, got, err
				}
			}
		case 'Q':
			var q snapshotQuery
			if err := strictJSON(body, &q); err != nil {
				return head, got, fail("saved query: %v", err)
			}
			if naming.Validate("tenant", q.Tenant) != nil || naming.Validate("fabric", q.Fabric) != nil ||
				collections.ValidateCollectionName(q.Query.Name) != nil {
				return head, got, fail("saved query %q", q.Query.Name)
			}
			if err := st.PutSavedQuery(q.Tenant, q.Fabric, q.Query); err != nil {
				return head, got, err
			}
		case 'E':
			if err := flush(); err != nil {
				return head, got, err
			}
			var end snapshotEnd
			if err := strictJSON(body, &end); err != nil {
				return head, got, fail("end: %v", err)
			}
			if end != got {
				return head, got, fail("end says %+v, read %+v", end, got)
			}
			if _, _, err := readFrame(br); !errors.Is(err, io.EOF) {
				return head, got, fail("data after the end")
			}
			if err := st.SetReplApplied(head.ReplApplied, true); err != nil {
				return head, got, err
			}
			return head, got, nil
		default:
			return head, got, fail("frame type %q", typ)
		}
	}
}

// parseDocFrame reads a 'D' frame's body (key length, key, state) of a
// document of collection.
func parseDocFrame(body []byte, collection string) (string, *collections.Doc, error) {
	n, k := binary.Uvarint(body)
	if k <= 0 || n > uint64(len(body)-k) {
		return "", nil, errors.New("document key length")
	}
	key := string(body[k : k+int(n)])
	doc, err := collections.DecodeDoc(body[k+int(n):])
	if err != nil {
		return "", nil, fmt.Errorf("document %q: %v", key, err)
	}
	if doc.Collection() != collection || doc.Key() != key {
		return "", nil, fmt.Errorf("document %s under %s/%s", doc.ID(), collection, key)
	}
	return key, doc, nil
}

// readFrame reads one frame; io.EOF only at a frame boundary.
func readFrame(r *bufio.Reader) (byte, []byte, error) {
	n, err := binary.ReadUvarint(r)
	if errors.Is(err, io.EOF) {
		return 0, nil, io.EOF
	}
	if err != nil {
		return 0, nil, fmt.Errorf("%w: frame length: %w", ErrCorruptSnapshot, err)
	}
	if n == 0 || n > maxSnapshotFrameBytes {
		return 0, nil, fmt.Errorf("%w: frame of %d bytes", ErrCorruptSnapshot, n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return 0, nil, fmt.Errorf("%w: truncated frame: %w", ErrCorruptSnapshot, err)
	}
	return buf[0], buf[1:], nil
}

func strictJSON(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return err
	}
	return nil
}

func checkVectorMap(m map[string]uint64) error {
	if len(m) > maxAckRegions {
		return fmt.Errorf("vector of %d regions", len(m))
	}
	v := collections.VectorOf(m)
	if len(v) != len(m) {
		return fmt.Errorf("vector with a zero entry")
	}
	return v.Validate()
}

// maxReplKeyBytes bounds a replicated vector's key (origin@domain, the
// domain a list of regions).
const maxReplKeyBytes = 4096

// replKeyServes reports whether a replicated vector's key (replKey) is
// of a domain region serves: the node's domain always, a pinned
// fabric's (origin@r1,r2,...) when region is among its regions.
func replKeyServes(key, region string) bool {
	_, domain, pinned := strings.Cut(key, "@")
	return !pinned || slices.Contains(strings.Split(domain, ","), region)
}

// checkReplVector validates a replicated vector (replKey's keys).
func checkReplVector(m map[string]uint64) error {
	if len(m) > maxAckRegions {
		return fmt.Errorf("replicated vector of %d entries", len(m))
	}
	for k, seq := range m {
		if k == "" || len(k) > maxReplKeyBytes || !utf8.ValidString(k) {
			return fmt.Errorf("replicated vector key %q: want 1 to %d bytes of UTF-8", k, maxReplKeyBytes)
		}
		if seq == 0 {
			return fmt.Errorf("replicated vector entry %q is zero", k)
		}
	}
	return nil
}

// checkSnapshotInfo validates a collection description from a snapshot.
func checkSnapshotInfo(c *store.CollectionInfo) error {
	if c.ID == 0 {
		return fmt.Errorf("id 0")
	}
	if err := naming.Validate("tenant", c.Tenant); err != nil {
		return err
	}
	if err := naming.Validate("fabric", c.Fabric); err != nil {
		return err
	}
	if _, err := checkSpec(CollectionSpec{Name: c.Name, Type: c.Type, KeyValue: c.KeyValue, TTLSeconds: c.DefaultTTLSeconds}); err != nil {
		return err
	}
	if len(c.Indexes) > maxIndexesPerCollection {
		return fmt.Errorf("%d indexes", len(c.Indexes))
	}
	for _, ix := range c.Indexes {
		if err := checkIndexField(ix.Field); err != nil {
			return err
		}
	}
	return nil
}
