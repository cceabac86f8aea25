package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/causeway/causeway/collections/service"
)

// writeOptions are the query-string options of document writes.
type writeOptions struct {
	returnNew, returnOld, silent bool
	ignoreRevs                   bool
	keepNull, mergeObjects       bool
	overwrite                    service.OverwriteMode
}

func readWriteOptions(r *http.Request) (writeOptions, error) {
	var o writeOptions
	var err error
	for _, f := range []struct {
		name string
		def  bool
		dst  *bool
	}{
		{"returnNew", false, &o.returnNew}, {"returnOld", false, &o.returnOld}, {"silent", false, &o.silent},
		{"ignoreRevs", true, &o.ignoreRevs}, {"keepNull", true, &o.keepNull}, {"mergeObjects", true, &o.mergeObjects},
	} {
		if *f.dst, err = boolParam(r, f.name, f.def); err != nil {
			return o, err
		}
	}
	if _, err := boolParam(r, "waitForSync", false); err != nil {
		return o, err
	}
	overwrite, err := boolParam(r, "overwrite", false)
	if err != nil {
		return o, err
	}
	if overwrite {
		o.overwrite = service.OverwriteReplace
	}
	switch m := r.URL.Query().Get("overwriteMode"); m {
	case "":
	case "conflict":
		o.overwrite = service.OverwriteConflict
	case "replace":
		o.overwrite = service.OverwriteReplace
	case "update":
		o.overwrite = service.OverwriteUpdate
	case "ignore":
		o.overwrite = service.OverwriteIgnore
	default:
		return o, fmt.Errorf("%w: overwriteMode %q (want conflict, replace, update or ignore)", service.ErrBadRequest, m)
	}
	return o, nil
}

// ifMatch returns the revision an If-Match header asks for ("" none).
func ifMatch(r *http.Request) string { return trimQuotes(r.Header.Get("If-Match")) }

// docResult renders one write result the ArangoDB way.
func docResult(collection string, res service.Result, o writeOptions) map[string]any {
	if res.Err != nil {
		status, num := codes(res.Err)
		return map[string]any{"error": true, "code": status, "errorNum": num, "errorMessage": res.Err.Error()}
	}
	if o.silent {
		return map[string]any{}
	}
	m := map[string]any{"_id": collection + "/" + res.Key, "_key": res.Key, "_rev": res.Rev}
	if res.OldRev != "" && res.OldRev != res.Rev {
		m["_oldRev"] = res.OldRev
	}
	if o.returnNew {
		m["new"] = rawOrNull(res.New)
	}
	if o.returnOld {
		m["old"] = rawOrNull(res.Old)
	}
	return m
}

func rawOrNull(b json.RawMessage) json.RawMessage {
	if b == nil {
		return json.RawMessage("null")
	}
	return b
}

// respondWrites answers a batch with per-document results (errors inline,
// counted in X-Arango-Error-Codes) or a single write with its own status.
func respondWrites(w http.ResponseWriter, collection string, results []service.Result, array bool, o writeOptions, okStatus int) {
	if !array {
		res := results[0]
		if res.Err != nil {
			fail(w, res.Err)
			return
		}
		if !o.silent {
			w.Header().Set("Etag", strconv.Quote(res.Rev))
		}
		writeJSON(w, okStatus, docResult(collection, res, o))
		return
	}
	// With silent, ArangoDB lists only the errors ([] when every
	// document was written).
	out := make([]map[string]any, 0, len(results))
	counts := map[int]int{}
	for _, res := range results {
		if res.Err != nil {
			_, num := codes(res.Err)
			counts[num]++
		} else if o.silent {
			continue
		}
		out = append(out, docResult(collection, res, o))
	}
	setErrorCodes(w, counts)
	writeJSON(w, okStatus, out)
}

// writeDocs runs the writes of a document request.
func (h *Handler) writeDocs(w http.ResponseWriter, r *http.Request, build func(body any, o writeOptions) ([]service.Write, bool, error), okStatus int) {
	o, err := readWriteOptions(r)
	if err != nil {
		fail(w, err)
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	ws, array, err := build(body, o)
	if err != nil {
		fail(w, err)
		return
	}
	rf := ref(r, "collection")
	results, err := h.svc.Write(rf, ws)
	if err != nil {
		fail(w, err)
		return
	}
	respondWrites(w, rf.Collection, results, array, o, okStatus)
}

func (h *Handler) insertDocuments(w http.ResponseWriter, r *http.Request) {
	h.writeDocs(w, r, func(body any, o writeOptions) ([]service.Write, bool, error) {
		ins, array, err := documentsInput(body)
		if err != nil {
			return nil, array, err
		}
		ws := make([]service.Write, len(ins))
		for i, in := range ins {
			if in.hasKey && in.key == "" {
				return nil, array, fmt.Errorf("%w: _key is empty", service.ErrInvalidKey)
			}
			ws[i] = service.Write{Kind: service.Insert, Key: in.key, Doc: in.attrs, Overwrite: o.overwrite,
				KeepNull: o.keepNull, MergeObjects: o.mergeObjects, ReturnNew: o.returnNew, ReturnOld: o.returnOld}
			if !o.ignoreRevs {
				ws[i].IfRev = in.rev
			}
		}
		return ws, array, nil
	}, http.StatusCreated)
}

// modifyDocs builds replace or update writes from a batch body.
func modifyDocs(kind service.WriteKind) func(body any, o writeOptions) ([]service.Write, bool, error) {
	return func(body any, o writeOptions) ([]service.Write, bool, error) {
		if _, ok := body.([]any); !ok {
			return nil, true, fmt.Errorf("%w: want an array of documents with _key", service.ErrBadRequest)
		}
		ins, _, err := documentsInput(body)
		if err != nil {
			return nil, true, err
		}
		ws := make([]service.Write, len(ins))
		for i, in := range ins {
			if !in.hasKey {
				return nil, true, fmt.Errorf("%w: document %d has no _key", service.ErrInvalidKey, i)
			}
			ws[i] = service.Write{Kind: kind, Key: in.key, Doc: in.attrs, KeepNull: o.keepNull, MergeObjects: o.mergeObjects,
				ReturnNew: o.returnNew, ReturnOld: o.returnOld}
			if !o.ignoreRevs {
				ws[i].IfRev = in.rev
			}
		}
		return ws, true, nil
	}
}

// replaceDocuments replaces a batch of documents, or with ?onlyget=true
// reads them (readDocuments): ArangoDB's batch read shares the method and
// path.
func (h *Handler) replaceDocuments(w http.ResponseWriter, r *http.Request) {
	onlyget, err := boolParam(r, "onlyget", false)
	if err != nil {
		fail(w, err)
		return
	}
	if onlyget {
		h.readDocuments(w, r)
		return
	}
	h.writeDocs(w, r, modifyDocs(service.Replace), http.StatusCreated)
}

func (h *Handler) updateDocuments(w http.ResponseWriter, r *http.Request) {
	h.writeDocs(w, r, modifyDocs(service.Update), http.StatusCreated)
}

func (h *Handler) deleteDocuments(w http.ResponseWriter, r *http.Request) {
	h.writeDocs(w, r, func(body any, o writeOptions) ([]service.Write, bool, error) {
		ins, err := keysInput(body)
		if err != nil {
			return nil, true, err
		}
		ws := make([]service.Write, len(ins))
		for i, in := range ins {
			ws[i] = service.Write{Kind: service.Delete, Key: in.key, ReturnOld: o.returnOld}
			if !o.ignoreRevs {
				ws[i].IfRev = in.rev
			}
		}
		return ws, true, nil
	}, http.StatusOK)
}

// oneDoc builds the write of a single-document request on /{key}.
func oneDoc(kind service.WriteKind, r *http.Request) func(body any, o writeOptions) ([]service.Write, bool, error) {
	return func(body any, o writeOptions) ([]service.Write, bool, error) {
		wr := service.Write{Kind: kind, Key: r.PathValue("key"), IfRev: ifMatch(r), KeepNull: o.keepNull,
			MergeObjects: o.mergeObjects, ReturnNew: o.returnNew, ReturnOld: o.returnOld}
		if kind != service.Delete {
			in, err := documentInput(body)
			if err != nil {
				return nil, false, err
			}
			wr.Doc = in.attrs
			if wr.IfRev == "" && !o.ignoreRevs {
				wr.IfRev = in.rev
			}
		}
		return []service.Write{wr}, false, nil
	}
}

func (h *Handler) replaceDocument(w http.ResponseWriter, r *http.Request) {
	h.writeDocs(w, r, oneDoc(service.Replace, r), http.StatusCreated)
}

func (h *Handler) updateDocument(w http.ResponseWriter, r *http.Request) {
	h.writeDocs(w, r, oneDoc(service.Update, r), http.StatusCreated)
}

func (h *Handler) deleteDocument(w http.ResponseWriter, r *http.Request) {
	h.writeDocs(w, r, oneDoc(service.Delete, r), http.StatusOK)
}

func (h *Handler) getDocument(w http.ResponseWriter, r *http.Request) {
	doc, rev, err := h.svc.Document(ref(r, "collection"), r.PathValue("key"))
	if err != nil {
		if r.Method == http.MethodHead {
			status, _ := codes(err)
			w.WriteHeader(status)
			return
		}
		fail(w, err)
		return
	}
	w.Header().Set("Etag", strconv.Quote(rev))
	if m := ifMatch(r); m != "" && m != rev {
		fail(w, fmt.Errorf("%w: the document has _rev %q, If-Match wants %q", service.ErrPrecondition, rev, m))
		return
	}
	if m := trimQuotes(r.Header.Get("If-None-Match")); m != "" && m == rev {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(doc)
}

// conflictJSON is one recorded conflict of a document.
type conflictJSON struct {
	Path   string          `json:"path"`
	Value  json.RawMessage `json:"value"`
	Region string          `json:"region"`
	Seq    uint64          `json:"seq"`
	HLC    uint64          `json:"hlc"`
}

func (h *Handler) conflicts(w http.ResponseWriter, r *http.Request) {
	cs, err := h.svc.Conflicts(ref(r, "collection"), r.PathValue("key"))
	if err != nil {
		fail(w, err)
		return
	}
	out := make([]conflictJSON, len(cs))
	for i, c := range cs {
		out[i] = conflictJSON{Path: strings.Join(c.Path, "."), Value: c.Value, Region: c.Dot.Region, Seq: c.Dot.Seq, HLC: c.HLC}
	}
	result(w, http.StatusOK, out)
}
