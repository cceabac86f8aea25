package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
)

// ArangoDB's collection statistics, which drivers ask for:
//
//	GET .../collection/{name}/figures[?details=true]
//	GET .../collection/{name}/checksum[?withRevisions=true][&withData=true]
//
// A checksum is the XOR of one 64-bit FNV-1a hash per visible document,
// over its _key, with withRevisions its _rev, with withData its user
// attributes (as JSON with sorted names): it does not depend on the order
// documents are read, so two regions holding the same documents answer
// the same checksum.

// figures are ArangoDB's figures of a collection, as far as they exist
// here: no in-memory caches, documents measured as their JSON.
type figures struct {
	Indexes       indexFigures `json:"indexes"`
	DocumentsSize int64        `json:"documentsSize"`
	CacheInUse    bool         `json:"cacheInUse"`
	CacheSize     int64        `json:"cacheSize"`
	CacheUsage    int64        `json:"cacheUsage"`
	// OpLogBytes is the collection's op log on disk.
	OpLogBytes int64 `json:"opLogBytes"`
	// Engine is given with details=true.
	Engine *engineFigures `json:"engine,omitempty"`
}

type indexFigures struct {
	Count int   `json:"count"`
	Size  int64 `json:"size"`
}

type engineFigures struct {
	Documents int64    `json:"documents"`
	Indexes   []string `json:"indexes"`
}

type figuresJSON struct {
	collectionJSON
	Figures figures `json:"figures"`
}

type checksumJSON struct {
	collectionJSON
	Checksum string `json:"checksum"`
	Revision string `json:"revision"`
}

func (h *Handler) collectionFigures(w http.ResponseWriter, r *http.Request) {
	details, err := boolParam(r, "details", false)
	if err != nil {
		fail(w, err)
		return
	}
	rf := ref(r, "name")
	info, err := h.svc.Collection(rf)
	if err != nil {
		fail(w, err)
		return
	}
	idx, err := h.svc.Indexes(rf)
	if err != nil {
		fail(w, err)
		return
	}
	var n, size int64
	if err := h.svc.Each(rf, func(doc []byte) error { n++; size += int64(len(doc)); return nil }); err != nil {
		fail(w, err)
		return
	}
	out := figuresJSON{collectionJSON: describe(info), Figures: figures{Indexes: indexFigures{Count: len(idx) + 1}, DocumentsSize: size}}
	out.Count = &n
	if ol, err := h.svc.OpLog(rf); err == nil {
		out.Figures.OpLogBytes = ol.Bytes
	}
	if details {
		e := &engineFigures{Documents: n, Indexes: []string{"primary"}}
		for _, ix := range idx {
			e.Indexes = append(e.Indexes, ix.Name)
		}
		out.Figures.Engine = e
	}
	withCode(w, http.StatusOK, out)
}

func (h *Handler) collectionChecksum(w http.ResponseWriter, r *http.Request) {
	withRevisions, err := boolParam(r, "withRevisions", false)
	if err != nil {
		fail(w, err)
		return
	}
	withData, err := boolParam(r, "withData", false)
	if err != nil {
		fail(w, err)
		return
	}
	rf := ref(r, "name")
	info, err := h.svc.Collection(rf)
	if err != nil {
		fail(w, err)
		return
	}
	var sum, revSum uint64
	err = h.svc.Each(rf, func(doc []byte) error {
		d, err := docChecksum(doc, withRevisions, withData)
		if err != nil {
			return err
		}
		rv, err := docChecksum(doc, true, false)
		sum, revSum = sum^d, revSum^rv
		return err
	})
	if err != nil {
		fail(w, err)
		return
	}
	withCode(w, http.StatusOK, checksumJSON{collectionJSON: describe(info),
		Checksum: strconv.FormatUint(sum, 10), Revision: strconv.FormatUint(revSum, 16)})
}

// docChecksum hashes one rendered document for a collection checksum
// (pure).
func docChecksum(doc []byte, withRevisions, withData bool) (uint64, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return 0, fmt.Errorf("checksum: a stored document does not decode: %w", err)
	}
	key, _ := m["_key"].(string)
	hs := fnv.New64a()
	_, _ = hs.Write([]byte(key))
	if withRevisions {
		rev, _ := m["_rev"].(string)
		_, _ = hs.Write([]byte{0})
		_, _ = hs.Write([]byte(rev))
	}
	if withData {
		delete(m, "_key")
		delete(m, "_id")
		delete(m, "_rev")
		data, err := json.Marshal(m) // names sorted
		if err != nil {
			return 0, fmt.Errorf("checksum: %w", err)
		}
		_, _ = hs.Write([]byte{0})
		_, _ = hs.Write(data)
	}
	return hs.Sum64(), nil
}
