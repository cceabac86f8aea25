package service

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/store"
)

// Backfill of a geo-fabric's collections. A region added to a fabric's
// list gets the fabric's collections from the fabric's home as chunks of
// snapshot frames (snapshot.go's 'C', 'D' and 'Q'), each chunk whole:
// every chunk of documents starts with its collection's 'C' frame, so a
// chunk applies on its own, again after a crash, in any later order. The
// home takes the copy (FabricSnapshot) when it has applied everything of
// the fabric's previous list and nothing of the new one; the region
// imports the chunks (ImportFabricChunk) before it applies any op of the
// new list, which the copy's per-collection applied vectors then skip or
// apply (a copy taken later, after a crash of the home, holds some of
// them already: their dots are skipped).

// FabricSnapshot is a consistent copy of one fabric's collections.
type FabricSnapshot struct {
	s              *Service
	sn             *store.Snapshot
	tenant, fabric string
}

// FabricSnapshot takes a copy of the fabric's collections and saved
// queries (Close it).
func (s *Service) FabricSnapshot(tenant, fabric string) (*FabricSnapshot, error) {
	if s.clustered() {
		return nil, fmt.Errorf("%w: geo-fabric backfill from a region of several nodes", ErrNotImplemented)
	}
	s.replMu.Lock()
	sn := s.store.Snapshot()
	s.replMu.Unlock()
	return &FabricSnapshot{s: s, sn: sn, tenant: tenant, fabric: fabric}, nil
}

// Close releases the copy.
func (fs *FabricSnapshot) Close() error { return fs.sn.Close() }

// Chunks calls emit with chunks of about maxBytes (a document bigger than
// that travels alone), in order; it stops at emit's first error.
func (fs *FabricSnapshot) Chunks(maxBytes int, emit func(chunk []byte) error) (collectionsSent, documents int, err error) {
	infos, err := fs.sn.Collections()
	if err != nil {
		return 0, 0, err
	}
	var buf bytes.Buffer
	fw := frameWriter{w: &buf}
	for _, info := range infos {
		if info.Tenant != fs.tenant || info.Fabric != fs.fabric {
			continue
		}
		applied, hlc, err := fs.sn.Applied(info.ID)
		if err != nil {
			return collectionsSent, documents, err
		}
		head, err := json.Marshal(snapshotCollection{Info: info, Applied: vectorMap(applied), HLC: hlc})
		if err != nil {
			return collectionsSent, documents, err
		}
		collectionsSent++
		fw.frame('C', head)
		docs := 0
		err = fs.sn.States(info.ID, func(key string, state []byte) error {
			if docs > 0 && buf.Len()+len(state) > maxBytes {
				if err := emit(bytes.Clone(buf.Bytes())); err != nil {
					return err
				}
				buf.Reset()
				fw.frame('C', head)
				docs = 0
			}
			body := binary.AppendUvarint(nil, uint64(len(key)))
			body = append(body, key...)
			fw.frame('D', append(body, state...))
			docs++
			documents++
			return fw.err
		})
		if err != nil {
			return collectionsSent, documents, err
		}
		if err := emit(bytes.Clone(buf.Bytes())); err != nil {
			return collectionsSent, documents, err
		}
		buf.Reset()
	}
	err = fs.sn.SavedQueriesAll(func(tenant, fabric string, q store.SavedQuery) error {
		if tenant == fs.tenant && fabric == fs.fabric {
			fw.json('Q', snapshotQuery{Tenant: tenant, Fabric: fabric, Query: q})
		}
		return fw.err
	})
	if err == nil && buf.Len() > 0 {
		err = emit(bytes.Clone(buf.Bytes()))
	}
	return collectionsSent, documents, err
}

func vectorMap(v collections.Vector) map[string]uint64 {
	m := make(map[string]uint64, len(v))
	for _, e := range v {
		m[e.Region] = e.Seq
	}
	return m
}

// importDoc is a decoded 'D' frame.
type importDoc struct {
	key string
	doc *collections.Doc
}

// importPart is one collection of a chunk.
type importPart struct {
	head snapshotCollection
	docs []importDoc
}

// ImportFabricChunk imports one chunk of a fabric's backfill into this
// region's view: every frame is checked (the fabric's own, well formed)
// before anything is written; a collection is created here (with an id of
// this view) the first time, its documents written as they are in the
// copy, and it is (re)opened after. Importing a chunk again changes
// nothing.
func (s *Service) ImportFabricChunk(tenant, fabric string, chunk []byte) error {
	if s.clustered() {
		return fmt.Errorf("%w: geo-fabric backfill into a region of several nodes", ErrNotImplemented)
	}
	parts, queries, err := parseFabricChunk(tenant, fabric, chunk)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if err := s.importPart(p); err != nil {
			return err
		}
	}
	for _, q := range queries {
		if err := s.store.PutSavedQuery(q.Tenant, q.Fabric, q.Query); err != nil {
			return err
		}
	}
	return nil
}

func parseFabricChunk(tenant, fabric string, chunk []byte) ([]importPart, []snapshotQuery, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: fabric backfill: %s", ErrCorruptSnapshot, fmt.Sprintf(format, args...))
	}
	var parts []importPart
	var queries []snapshotQuery
	br := bufio.NewReader(bytes.NewReader(chunk))
	for {
		typ, body, err := readFrame(br)
		if errors.Is(err, io.EOF) {
			return parts, queries, nil
		}
		if err != nil {
			return nil, nil, err
		}
		switch typ {
		case 'C':
			var c snapshotCollection
			if err := strictJSON(body, &c); err != nil {
				return nil, nil, fail("collection: %v", err)
			}
			if err := checkSnapshotInfo(&c.Info); err != nil {
				return nil, nil, fail("collection %q: %v", c.Info.Name, err)
			}
			if c.Info.Tenant != tenant || c.Info.Fabric != fabric {
				return nil, nil, fail("collection %s/%s/%s in the backfill of %s/%s", c.Info.Tenant, c.Info.Fabric, c.Info.Name, tenant, fabric)
			}
			if err := checkVectorMap(c.Applied); err != nil {
				return nil, nil, fail("collection %q: %v", c.Info.Name, err)
			}
			parts = append(parts, importPart{head: c})
		case 'D':
			if len(parts) == 0 {
				return nil, nil, fail("document before any collection")
			}
			cur := &parts[len(parts)-1]
			key, doc, err := parseDocFrame(body, cur.head.Info.Name)
			if err != nil {
				return nil, nil, fail("%v", err)
			}
			cur.docs = append(cur.docs, importDoc{key: key, doc: doc})
		case 'Q':
			var q snapshotQuery
			if err := strictJSON(body, &q); err != nil {
				return nil, nil, fail("saved query: %v", err)
			}
			if q.Tenant != tenant || q.Fabric != fabric || collections.ValidateCollectionName(q.Query.Name) != nil {
				return nil, nil, fail("saved query %s/%s/%q", q.Tenant, q.Fabric, q.Query.Name)
			}
			queries = append(queries, q)
		default:
			return nil, nil, fail("frame type %q", typ)
		}
	}
}

// importPart writes one collection's part of a chunk: the collection is
// closed while its documents are written behind it, then opened again.
func (s *Service) importPart(p importPart) error {
	ref := Ref{Tenant: p.head.Info.Tenant, Fabric: p.head.Info.Fabric, Collection: p.head.Info.Name}
	if err := naming.Validate("tenant", ref.Tenant); err != nil {
		return err
	}
	s.mu.Lock()
	if c := s.cols[ref]; c != nil {
		delete(s.cols, ref)
		s.mu.Unlock()
		c.close()
	} else {
		s.mu.Unlock()
	}
	info, found, err := s.storedCollection(ref)
	if err != nil {
		return err
	}
	if !found {
		id, err := s.store.AllocateID()
		if err != nil {
			return err
		}
		info = p.head.Info
		info.ID, info.ChangeSeqBase = id, 0
		from := uint64(0)
		if st, err := s.node.Stream(opLogName(ref)); err == nil {
			from = st.Source().EndOffset()
		}
		if err := s.store.ImportCollection(info, collections.VectorOf(p.head.Applied), p.head.HLC, from); err != nil {
			return err
		}
		if info, found, err = s.storedCollection(ref); err != nil || !found {
			return fmt.Errorf("collections: import %s: not stored after its import (%v)", ref, err)
		}
	}
	b := s.store.NewBatch()
	defer b.Close()
	for _, d := range p.docs {
		if err := b.PutDoc(&info, d.key, nil, d.doc); err != nil {
			return err
		}
	}
	if err := b.Commit(); err != nil {
		return err
	}
	c, err := s.openCollection(info)
	if err != nil {
		return fmt.Errorf("collections: open %s after its import: %w", ref, err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.close()
		return fmt.Errorf("%w: shutting down", ErrUnavailable)
	}
	s.cols[ref] = c
	if r := s.replication(); r != nil {
		c.ship.start(r)
	}
	s.mu.Unlock()
	s.log.Info("collection part imported from the fabric's home", zap.Stringer("collection", ref), zap.Int("documents", len(p.docs)))
	return nil
}

// storedCollection finds a collection's description in the view.
func (s *Service) storedCollection(ref Ref) (store.CollectionInfo, bool, error) {
	infos, err := s.store.Collections()
	if err != nil {
		return store.CollectionInfo{}, false, err
	}
	for _, in := range infos {
		if in.Tenant == ref.Tenant && in.Fabric == ref.Fabric && in.Name == ref.Collection {
			return in, true, nil
		}
	}
	return store.CollectionInfo{}, false, nil
}
