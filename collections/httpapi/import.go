package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/causeway/causeway/collections/service"
)

// POST /_fabric/{fabric}/_api/import?collection=c is ArangoDB's bulk
// import. The body is, by type:
//
//   - documents: one JSON object per line (JSON lines);
//   - list (or array): one JSON array of objects;
//   - auto: list when the body starts with '[', else documents;
//   - no type: ArangoDB's headers and values, a JSON array of attribute
//     names on the first line, then one array of values per line.
//
// Blank lines count as empty; a line or element that is not an object
// (or does not parse) is an error and the others are imported, unless
// complete=true, which imports all or nothing (service.WriteAll: at most
// service.MaxWritesPerRequest documents, a key at most once). onDuplicate
// says what a document whose key exists does: error (default), update
// (merged as PATCH does), replace, or ignore. details=true lists each
// error. fromPrefix and toPrefix complete _from and _to values without a
// collection. overwrite=true (truncate first) is refused: truncate with
// PUT .../collection/{c}/truncate. The answer is 201 with
// {created, errors, empty, updated, ignored[, details]}.

// importItem is one document of an import body, or why it is not one.
type importItem struct {
	pos int // line (documents, headers) or element (list), from 0
	doc map[string]any
	raw []byte // the offending text, for details
	err error
}

// maxImportDetailBytes bounds the offending text quoted in one detail.
const maxImportDetailBytes = 256

// parseImport splits an import body into documents (pure).
func parseImport(body []byte, typ string) (items []importItem, empty int, err error) {
	trimmed := bytes.TrimSpace(body)
	if typ == "auto" {
		typ = "documents"
		if len(trimmed) > 0 && trimmed[0] == '[' {
			typ = "list"
		}
	}
	switch typ {
	case "list", "array":
		if len(trimmed) == 0 {
			return nil, 0, nil
		}
		v, err := decodeJSON(trimmed)
		if err != nil {
			return nil, 0, err
		}
		arr, ok := v.([]any)
		if !ok {
			return nil, 0, fmt.Errorf("%w: type=list wants a JSON array of documents", errCorruptJSON)
		}
		for i, e := range arr {
			it := importItem{pos: i}
			if obj, ok := e.(map[string]any); ok {
				it.doc = obj
			} else {
				it.raw, _ = json.Marshal(e)
				it.err = fmt.Errorf("%w: invalid JSON type (expecting object)", service.ErrBadRequest)
			}
			items = append(items, it)
		}
		return items, 0, nil
	case "documents":
		for i, line := range lines(body) {
			line = bytes.TrimSpace(line)
			if len(line) == 0 {
				empty++
				continue
			}
			it := importItem{pos: i, raw: line}
			v, err := decodeJSON(line)
			obj, ok := v.(map[string]any)
			switch {
			case err != nil:
				it.err = err
			case !ok:
				it.err = fmt.Errorf("%w: invalid JSON type (expecting object)", service.ErrBadRequest)
			default:
				it.doc, it.raw = obj, nil
			}
			items = append(items, it)
		}
		return items, empty, nil
	case "":
		return parseHeadersValues(body)
	}
	return nil, 0, fmt.Errorf("%w: type %q (want documents, list, array or auto)", service.ErrBadRequest, typ)
}

// lines splits a body into lines; the newline ending the last one does
// not start another.
func lines(body []byte) [][]byte {
	body = bytes.TrimSuffix(bytes.TrimSuffix(body, []byte("\n")), []byte("\r"))
	if len(body) == 0 {
		return nil
	}
	return bytes.Split(body, []byte("\n"))
}

// parseHeadersValues reads ArangoDB's headers-and-values import body.
func parseHeadersValues(body []byte) (items []importItem, empty int, err error) {
	var names []string
	for i, line := range lines(body) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			if names != nil {
				empty++
			}
			continue
		}
		v, err := decodeJSON(line)
		arr, isArray := v.([]any)
		if names == nil {
			if err != nil || !isArray || len(arr) == 0 {
				return nil, 0, fmt.Errorf("%w: without type, the first line must be a JSON array of attribute names", errCorruptJSON)
			}
			for _, n := range arr {
				s, ok := n.(string)
				if !ok || s == "" {
					return nil, 0, fmt.Errorf("%w: attribute names must be non-empty strings", service.ErrBadRequest)
				}
				names = append(names, s)
			}
			continue
		}
		it := importItem{pos: i, raw: line}
		switch {
		case err != nil:
			it.err = err
		case !isArray:
			it.err = fmt.Errorf("%w: invalid JSON type (expecting array of values)", service.ErrBadRequest)
		case len(arr) != len(names):
			it.err = fmt.Errorf("%w: wrong number of values (%d, the header names %d)", service.ErrBadRequest, len(arr), len(names))
		default:
			it.doc, it.raw = make(map[string]any, len(names)), nil
			for j, n := range names {
				if arr[j] != nil {
					it.doc[n] = arr[j]
				}
			}
		}
		items = append(items, it)
	}
	if names == nil {
		return nil, 0, fmt.Errorf("%w: without type, the first line must be a JSON array of attribute names", errCorruptJSON)
	}
	return items, empty, nil
}

// importAnswer is the import's answer, ArangoDB's shape.
type importAnswer struct {
	Error   bool     `json:"error"`
	Created int      `json:"created"`
	Errors  int      `json:"errors"`
	Empty   int      `json:"empty"`
	Updated int      `json:"updated"`
	Ignored int      `json:"ignored"`
	Details []string `json:"details,omitempty"`
}

// importOptions are the import's query-string options.
type importOptions struct {
	collection, typ      string
	onDuplicate          service.OverwriteMode
	complete, details    bool
	fromPrefix, toPrefix string
}

func readImportOptions(r *http.Request) (importOptions, error) {
	q := r.URL.Query()
	o := importOptions{collection: q.Get("collection"), typ: q.Get("type"), fromPrefix: q.Get("fromPrefix"), toPrefix: q.Get("toPrefix")}
	if o.collection == "" {
		return o, fmt.Errorf("%w: the collection query parameter is required", service.ErrBadRequest)
	}
	switch q.Get("onDuplicate") {
	case "", "error":
		o.onDuplicate = service.OverwriteConflict
	case "update":
		o.onDuplicate = service.OverwriteUpdate
	case "replace":
		o.onDuplicate = service.OverwriteReplace
	case "ignore":
		o.onDuplicate = service.OverwriteIgnore
	}
	var err error
	if o.complete, err = boolParam(r, "complete", false); err != nil {
		return o, err
	}
	if o.details, err = boolParam(r, "details", false); err != nil {
		return o, err
	}
	return o, nil
}

// importWrite turns one parsed document into its insert.
func importWrite(doc map[string]any, o importOptions) (service.Write, error) {
	in, err := documentInput(doc)
	if err != nil {
		return service.Write{}, err
	}
	if in.hasKey && in.key == "" {
		return service.Write{}, fmt.Errorf("%w: _key is empty", service.ErrInvalidKey)
	}
	for attr, prefix := range map[string]string{"_from": o.fromPrefix, "_to": o.toPrefix} {
		if s, ok := in.attrs[attr].(string); ok && prefix != "" && !strings.Contains(s, "/") {
			in.attrs[attr] = prefix + "/" + s
		}
	}
	return service.Write{Kind: service.Insert, Key: in.key, Doc: in.attrs, Overwrite: o.onDuplicate, KeepNull: true, MergeObjects: true}, nil
}

// detail renders one refused document as ArangoDB's details do.
func detail(pos int, err error, raw []byte, doc map[string]any) string {
	if raw == nil && doc != nil {
		raw, _ = json.Marshal(doc)
	}
	if len(raw) > maxImportDetailBytes {
		raw = append(raw[:maxImportDetailBytes:maxImportDetailBytes], "..."...)
	}
	return fmt.Sprintf("at position %d: %s, offending document: %s", pos, err.Error(), raw)
}

func (h *Handler) importDocuments(w http.ResponseWriter, r *http.Request) {
	o, err := readImportOptions(r)
	if err != nil {
		fail(w, err)
		return
	}
	rf := service.Ref{Tenant: tenant(r), Fabric: fabric(r), Collection: o.collection}
	if _, err := h.svc.Collection(rf); err != nil {
		fail(w, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			fail(w, fmt.Errorf("%w: body larger than %d bytes", service.ErrTooLarge, maxBodyBytes))
			return
		}
		fail(w, fmt.Errorf("%w: read body: %w", errCorruptJSON, err))
		return
	}
	items, empty, err := parseImport(body, o.typ)
	if err != nil {
		fail(w, err)
		return
	}
	ans := importAnswer{Empty: empty}
	refuse := func(it importItem, err error) {
		ans.Errors++
		if o.details {
			ans.Details = append(ans.Details, detail(it.pos, err, it.raw, it.doc))
		}
	}
	var ws []service.Write
	var pos []importItem // the item of each write
	for _, it := range items {
		if it.err == nil {
			var wr service.Write
			if wr, it.err = importWrite(it.doc, o); it.err == nil {
				ws, pos = append(ws, wr), append(pos, it)
				continue
			}
		}
		if o.complete {
			fail(w, fmt.Errorf("import aborted, nothing written: at position %d: %w", it.pos, it.err))
			return
		}
		refuse(it, it.err)
	}
	count := func(res service.Result, it importItem) {
		switch {
		case res.Err != nil:
			refuse(it, res.Err)
		case res.OldRev == "":
			ans.Created++
		case o.onDuplicate == service.OverwriteIgnore:
			ans.Ignored++
		default:
			ans.Updated++
		}
	}
	if o.complete {
		if len(ws) > service.MaxWritesPerRequest {
			fail(w, fmt.Errorf("%w: complete=true imports at most %d documents at once, the body holds %d", service.ErrTooLarge, service.MaxWritesPerRequest, len(ws)))
			return
		}
		results, applied, err := h.svc.WriteAll(rf, ws)
		if err != nil {
			fail(w, err)
			return
		}
		if !applied {
			for i, res := range results {
				if res.Err != nil {
					fail(w, fmt.Errorf("import aborted, nothing written: at position %d: %w", pos[i].pos, res.Err))
					return
				}
			}
		}
		for i, res := range results {
			count(res, pos[i])
		}
		writeJSON(w, http.StatusCreated, ans)
		return
	}
	for start := 0; start < len(ws); start += service.MaxWritesPerRequest {
		end := min(start+service.MaxWritesPerRequest, len(ws))
		results, err := h.svc.Write(rf, ws[start:end])
		if err != nil {
			// The chunks before were written: say so.
			fail(w, fmt.Errorf("import stopped after %d of %d documents (%d created, %d updated, %d ignored, %d errors): %w",
				start, len(ws), ans.Created, ans.Updated, ans.Ignored, ans.Errors, err))
			return
		}
		for i, res := range results {
			count(res, pos[start+i])
		}
	}
	writeJSON(w, http.StatusCreated, ans)
}
