package spot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/causeway/causeway/broker/naming"
)

// Handler serves SPOT collections over HTTP, with the paths of Macrometa
// GDN and ArangoDB:
//
//	POST   /_fabric/{fabric}/_api/transaction                 a transaction (Txn)
//	POST   /_fabric/{fabric}/_api/spot/collection             create (CollectionSpec)
//	GET    /_fabric/{fabric}/_api/spot/collection             list (?homeRegion=)
//	GET    /_fabric/{fabric}/_api/spot/collection/{name}      describe
//	DELETE /_fabric/{fabric}/_api/spot/collection/{name}      drop
//	GET    /_fabric/{fabric}/_api/spot/collection/{name}/documents?after=&limit=
//	GET|PUT|PATCH|DELETE /_fabric/{fabric}/_api/document/{collection}/{key}
//	POST   /_fabric/{fabric}/_api/document/{collection}
//	GET|DELETE /_fabric/{fabric}/_api/kv/{collection}/value/{key}
//	PUT    /_fabric/{fabric}/_api/kv/{collection}/value
//	GET|DELETE /_fabric/{fabric}/_api/collection/{name}   (SPOT ones)
//	GET    /_api/spot/replicas                                this node's replicas
//	POST   /_api/spot/replicas/{id}/stop|start                fault drills
//
// Document and key/value paths are served here only for collections this
// node knows as SPOT (IsSpot); every other request goes to next. An
// optional /_tenant/{tenant} prefix names the tenant (the broker's handler
// strips it and passes the tenant in a header it sets itself).
type Handler struct {
	svc  *Service
	next http.Handler
	mux  *http.ServeMux
}

// NewHandler returns the handler; next serves what is not SPOT's (nil:
// 404).
func NewHandler(svc *Service, next http.Handler) *Handler {
	h := &Handler{svc: svc, next: next, mux: http.NewServeMux()}
	const p = "/_fabric/{fabric}/_api/"
	h.mux.HandleFunc("POST "+p+"transaction", checked(noParams, h.transaction))
	h.mux.HandleFunc("POST "+p+"spot/collection", checked(noParams, h.createCollection))
	h.mux.HandleFunc("GET "+p+"spot/collection", checked(paramsList, h.listCollections))
	h.mux.HandleFunc("GET "+p+"spot/collection/{name}", checked(noParams, h.getCollection))
	h.mux.HandleFunc("DELETE "+p+"spot/collection/{name}", checked(noParams, h.dropCollection))
	h.mux.HandleFunc("GET "+p+"spot/collection/{name}/documents", checked(paramsDocs, h.listDocuments))
	h.mux.HandleFunc("GET "+p+"collection/{name}", h.spotOnly("name", checked(noParams, h.describe)))
	h.mux.HandleFunc("GET "+p+"collection/{name}/properties", h.spotOnly("name", checked(noParams, h.describe)))
	h.mux.HandleFunc("DELETE "+p+"collection/{name}", h.spotOnly("name", checked(paramsDrop, h.dropCollection)))
	h.mux.HandleFunc("GET "+p+"document/{collection}/{key}", h.spotOnly("collection", checked(paramsRead, h.getDocument)))
	h.mux.HandleFunc("POST "+p+"document/{collection}", h.spotOnly("collection", checked(paramsWrite, h.insertDocument)))
	h.mux.HandleFunc("PUT "+p+"document/{collection}/{key}", h.spotOnly("collection", checked(paramsWrite, h.replaceDocument)))
	h.mux.HandleFunc("PATCH "+p+"document/{collection}/{key}", h.spotOnly("collection", checked(paramsUpdate, h.updateDocument)))
	h.mux.HandleFunc("DELETE "+p+"document/{collection}/{key}", h.spotOnly("collection", checked(paramsDelete, h.deleteDocument)))
	h.mux.HandleFunc("GET "+p+"kv/{collection}/value/{key}", h.spotOnly("collection", checked(paramsRead, h.getKV)))
	h.mux.HandleFunc("PUT "+p+"kv/{collection}/value", h.spotOnly("collection", checked(noParams, h.putKV)))
	h.mux.HandleFunc("GET /_api/spot/replicas", checked(noParams, h.replicas))
	h.mux.HandleFunc("POST /_api/spot/replicas/{id}/{action}", checked(noParams, h.replicaAction))
	h.mux.HandleFunc("DELETE "+p+"kv/{collection}/value/{key}", h.spotOnly("collection", checked(noParams, h.deleteKV)))
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, found := strings.CutPrefix(r.URL.Path, "/_tenant/"); found {
		t, path, _ := strings.Cut(rest, "/")
		r.Header.Set(headerTenant, t)
		r.URL.Path = "/" + path
		r.URL.RawPath = ""
	}
	if _, pattern := h.mux.Handler(r); pattern == "" {
		h.pass(w, r)
		return
	}
	cred := r.Header.Get("Authorization")
	if cred == "" && r.URL.Query().Get("token") != "" {
		cred = "Bearer " + r.URL.Query().Get("token")
	}
	ctx := WithCredential(r.Context(), cred)
	if r.Header.Get(headerForwarded) != "" {
		ctx = context.WithValue(ctx, forwardedKey{}, true)
	}
	h.mux.ServeHTTP(w, r.WithContext(ctx))
}

func (h *Handler) pass(w http.ResponseWriter, r *http.Request) {
	if h.next != nil {
		h.next.ServeHTTP(w, r)
		return
	}
	fail(w, fmt.Errorf("%w: %s %s", ErrNotImplemented, r.Method, r.URL.Path))
}

// spotOnly passes requests for collections that are not SPOT (named by
// the path parameter param) to next.
func (h *Handler) spotOnly(param string, fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !h.svc.IsSpot(r.Context(), refOf(r, r.PathValue(param))) {
			h.pass(w, r)
			return
		}
		fn(w, r)
	}
}

func tenantOf(r *http.Request) string {
	if t := r.Header.Get(headerTenant); t != "" {
		return t
	}
	return naming.DefaultTenant
}

func refOf(r *http.Request, collection string) Ref {
	return Ref{Tenant: tenantOf(r), Fabric: r.PathValue("fabric"), Collection: collection}
}

// readBody reads a body of at most MaxTxnBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxTxnBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("%w: body larger than %d bytes", ErrTooLarge, MaxTxnBytes)
		}
		return nil, fmt.Errorf("%w: read body: %w", ErrBadRequest, err)
	}
	return b, nil
}

// decodeStrict decodes exactly one JSON value into v, refusing unknown
// members.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: malformed JSON body: %w", ErrBadRequest, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: data after the JSON body", ErrBadRequest)
	}
	return nil
}

// decodeTxn decodes a transaction body. The result is not validated yet.
func decodeTxn(b []byte) (*Txn, error) {
	if len(b) > MaxTxnBytes {
		return nil, fmt.Errorf("%w: body of %d bytes, the limit is %d", ErrTooLarge, len(b), MaxTxnBytes)
	}
	var t Txn
	if err := decodeStrict(b, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":true,"code":500,"errorNum":4,"errorMessage":"encode answer","errorCode":"internal"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func fail(w http.ResponseWriter, err error) {
	a := newErrorAnswer(err)
	writeJSON(w, a.Code, a)
}

func ok(w http.ResponseWriter, status int, result any) {
	writeJSON(w, status, map[string]any{"error": false, "code": status, "result": result})
}

func (h *Handler) transaction(w http.ResponseWriter, r *http.Request) {
	b, err := readBody(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	t, err := decodeTxn(b)
	if err != nil {
		fail(w, err)
		return
	}
	opts := TxnOptions{RequestID: r.Header.Get(headerRequestID), forwardedFrom: r.Header.Get(headerForwarded)}
	res, err := h.svc.Transaction(r.Context(), tenantOf(r), r.PathValue("fabric"), t, opts)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Error   bool       `json:"error"`
		Code    int        `json:"code"`
		Results []OpResult `json:"results"`
		Index   uint64     `json:"index"`
	}{Code: http.StatusOK, Results: res.Results, Index: res.Index})
}

func (h *Handler) createCollection(w http.ResponseWriter, r *http.Request) {
	b, err := readBody(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	var spec CollectionSpec
	if err := decodeStrict(b, &spec); err != nil {
		fail(w, err)
		return
	}
	info, err := h.svc.createCollection(r.Context(), tenantOf(r), r.PathValue("fabric"), spec, r.Header.Get(headerForwarded))
	if err != nil {
		fail(w, err)
		return
	}
	ok(w, http.StatusOK, info)
}

func (h *Handler) listCollections(w http.ResponseWriter, r *http.Request) {
	infos, err := h.svc.Collections(r.Context(), tenantOf(r), r.PathValue("fabric"), r.URL.Query().Get("homeRegion"))
	if err != nil {
		fail(w, err)
		return
	}
	ok(w, http.StatusOK, infos)
}

func (h *Handler) getCollection(w http.ResponseWriter, r *http.Request) {
	ref := refOf(r, r.PathValue("name"))
	if err := ref.Validate(); err != nil {
		fail(w, err)
		return
	}
	info, err := h.svc.resolve(r.Context(), ref, r.Header.Get(headerForwarded) != "")
	if err != nil {
		fail(w, err)
		return
	}
	ok(w, http.StatusOK, info)
}

func (h *Handler) dropCollection(w http.ResponseWriter, r *http.Request) {
	ref := refOf(r, r.PathValue("name"))
	if err := ref.Validate(); err != nil {
		fail(w, err)
		return
	}
	if err := h.svc.dropCollection(r.Context(), ref, r.Header.Get(headerForwarded)); err != nil {
		fail(w, err)
		return
	}
	ok(w, http.StatusOK, map[string]string{"name": ref.Collection})
}

func (h *Handler) listDocuments(w http.ResponseWriter, r *http.Request) {
	ref := refOf(r, r.PathValue("name"))
	limit := 0
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			fail(w, fmt.Errorf("%w: limit %q is not a number", ErrBadRequest, s))
			return
		}
		limit = n
	}
	res, err := h.svc.List(r.Context(), ref, r.URL.Query().Get("after"), limit)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Error bool `json:"error"`
		Code  int  `json:"code"`
		*ListResult
	}{Code: http.StatusOK, ListResult: res})
}

// ifMatch returns the If-Match revision ("" when absent).
func ifMatch(r *http.Request) string {
	return strings.Trim(r.Header.Get("If-Match"), `"`)
}

func boolParam(r *http.Request, name string) (*bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return nil, nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s=%q is not a boolean", ErrBadRequest, name, s)
	}
	return &v, nil
}

// writeAnswer is ArangoDB's answer to a document write.
type writeAnswer struct {
	Key    string          `json:"_key"`
	ID     string          `json:"_id"`
	Rev    string          `json:"_rev"`
	OldRev string          `json:"_oldRev,omitempty"`
	New    json.RawMessage `json:"new,omitempty"`
}

func answerWrite(w http.ResponseWriter, r *http.Request, status int, res OpResult) {
	a := writeAnswer{Key: res.Key, ID: res.ID, Rev: res.Rev, OldRev: res.OldRev}
	if v, _ := strconv.ParseBool(r.URL.Query().Get("returnNew")); v {
		a.New = res.Doc
	}
	w.Header().Set("ETag", `"`+res.Rev+`"`)
	writeJSON(w, status, a)
}

// headerConsistency says how a read was served: "strong" (linearizable,
// by the home region) or "possibly-stale" (this region's copy of the
// change feed). A request sets it, or ?consistency=, to "strong" to
// insist on a linearizable read.
const headerConsistency = "X-Causeway-Consistency"

// readOptions reads the consistency a request asks for.
func readOptions(r *http.Request) ReadOptions {
	want := r.URL.Query().Get("consistency")
	if want == "" {
		want = r.Header.Get(headerConsistency)
	}
	return ReadOptions{AllowStale: want != "strong"}
}

func markConsistency(w http.ResponseWriter, stale bool) {
	if stale {
		w.Header().Set(headerConsistency, "possibly-stale")
	} else {
		w.Header().Set(headerConsistency, "strong")
	}
}

func (h *Handler) getDocument(w http.ResponseWriter, r *http.Request) {
	res, stale, err := h.svc.GetWith(r.Context(), refOf(r, r.PathValue("collection")), r.PathValue("key"), readOptions(r))
	markConsistency(w, stale)
	if err != nil {
		fail(w, err)
		return
	}
	if want := ifMatch(r); want != "" && want != res.Rev {
		fail(w, fmt.Errorf("%w: %s has _rev %s, If-Match %s", ErrPrecondition, res.ID, res.Rev, want))
		return
	}
	w.Header().Set("ETag", `"`+res.Rev+`"`)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Doc)
}

// docBody reads a single-document body.
func docBody(w http.ResponseWriter, r *http.Request) (json.RawMessage, error) {
	b, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	if !isJSONObject(b) {
		return nil, fmt.Errorf("%w: the body must be one JSON object (use the transaction API for several documents)", ErrBadRequest)
	}
	return b, nil
}

func (h *Handler) insertDocument(w http.ResponseWriter, r *http.Request) {
	doc, err := docBody(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	res, err := h.svc.Insert(r.Context(), refOf(r, r.PathValue("collection")), "", doc, WriteOptions{RequestID: r.Header.Get(headerRequestID)})
	if err != nil {
		fail(w, err)
		return
	}
	answerWrite(w, r, http.StatusCreated, res)
}

func (h *Handler) replaceDocument(w http.ResponseWriter, r *http.Request) {
	doc, err := docBody(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	res, err := h.svc.Replace(r.Context(), refOf(r, r.PathValue("collection")), r.PathValue("key"), doc,
		WriteOptions{IfRev: ifMatch(r), RequestID: r.Header.Get(headerRequestID)})
	if err != nil {
		fail(w, err)
		return
	}
	answerWrite(w, r, http.StatusCreated, res)
}

func (h *Handler) updateDocument(w http.ResponseWriter, r *http.Request) {
	doc, err := docBody(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	opts := WriteOptions{IfRev: ifMatch(r), RequestID: r.Header.Get(headerRequestID)}
	if opts.KeepNull, err = boolParam(r, "keepNull"); err != nil {
		fail(w, err)
		return
	}
	if opts.MergeObjects, err = boolParam(r, "mergeObjects"); err != nil {
		fail(w, err)
		return
	}
	res, err := h.svc.Patch(r.Context(), refOf(r, r.PathValue("collection")), r.PathValue("key"), doc, opts)
	if err != nil {
		fail(w, err)
		return
	}
	answerWrite(w, r, http.StatusCreated, res)
}

func (h *Handler) deleteDocument(w http.ResponseWriter, r *http.Request) {
	res, err := h.svc.Delete(r.Context(), refOf(r, r.PathValue("collection")), r.PathValue("key"),
		WriteOptions{IfRev: ifMatch(r), RequestID: r.Header.Get(headerRequestID)})
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, writeAnswer{Key: res.Key, ID: res.ID, Rev: res.Rev})
}

// kvAnswer is a key/value entry as Macrometa answers it (expireAt in Unix
// seconds, -1 for none).
type kvAnswer struct {
	Key      string          `json:"_key"`
	Value    json.RawMessage `json:"value"`
	ExpireAt int64           `json:"expireAt"`
}

func (h *Handler) getKV(w http.ResponseWriter, r *http.Request) {
	e, stale, err := h.svc.GetKVWith(r.Context(), refOf(r, r.PathValue("collection")), r.PathValue("key"), readOptions(r))
	markConsistency(w, stale)
	if err != nil {
		fail(w, err)
		return
	}
	a := kvAnswer{Key: e.Key, Value: e.Value, ExpireAt: -1}
	if e.ExpiresAt > 0 {
		a.ExpireAt = int64(e.ExpiresAt / 1000)
	}
	writeJSON(w, http.StatusOK, a)
}

// kvInput is one entry of a put body.
type kvInput struct {
	Key      string          `json:"_key"`
	Value    json.RawMessage `json:"value"`
	ExpireAt int64           `json:"expireAt,omitempty"`
	TTL      int64           `json:"ttl,omitempty"`
}

// maxExpireAtSeconds keeps expiries in milliseconds within 64 bits.
const maxExpireAtSeconds = 1 << 40

// decodeKVEntries reads one entry or an array of them; expireAt is Unix
// seconds (0 or -1: none), ttl seconds from nowMs.
func decodeKVEntries(b []byte, nowMs uint64) ([]KVEntry, error) {
	var ins []kvInput
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := decodeStrict(b, &ins); err != nil {
			return nil, err
		}
	} else {
		var one kvInput
		if err := decodeStrict(b, &one); err != nil {
			return nil, err
		}
		ins = []kvInput{one}
	}
	if len(ins) == 0 || len(ins) > MaxTxnOps {
		return nil, fmt.Errorf("%w: %d entries, want 1 to %d", ErrBadRequest, len(ins), MaxTxnOps)
	}
	out := make([]KVEntry, len(ins))
	for i, in := range ins {
		if in.Value == nil {
			return nil, fmt.Errorf("%w: entry %d has no value", ErrBadRequest, i)
		}
		if in.ExpireAt < -1 || in.ExpireAt > maxExpireAtSeconds || in.TTL < 0 || in.TTL > maxExpireAtSeconds || (in.TTL > 0 && in.ExpireAt > 0) {
			return nil, fmt.Errorf("%w: entry %d: expireAt (Unix seconds) or ttl (seconds), not both, in range", ErrBadRequest, i)
		}
		e := KVEntry{Key: in.Key, Value: in.Value}
		if in.ExpireAt > 0 {
			e.ExpiresAt = uint64(in.ExpireAt) * 1000
		}
		if in.TTL > 0 {
			e.ExpiresAt = nowMs + uint64(in.TTL)*1000
		}
		out[i] = e
	}
	return out, nil
}

func (h *Handler) putKV(w http.ResponseWriter, r *http.Request) {
	b, err := readBody(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	entries, err := decodeKVEntries(b, uint64(h.svc.cfg.Now().UnixMilli()))
	if err != nil {
		fail(w, err)
		return
	}
	results, err := h.svc.PutKV(r.Context(), refOf(r, r.PathValue("collection")), entries, r.Header.Get(headerRequestID))
	if err != nil {
		fail(w, err)
		return
	}
	out := make([]writeAnswer, len(results))
	for i, res := range results {
		out[i] = writeAnswer{Key: res.Key, ID: res.ID, Rev: res.Rev}
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) deleteKV(w http.ResponseWriter, r *http.Request) {
	res, err := h.svc.DeleteKV(r.Context(), refOf(r, r.PathValue("collection")), r.PathValue("key"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, writeAnswer{Key: res.Key, ID: res.ID, Rev: res.Rev})
}

func (h *Handler) describe(w http.ResponseWriter, r *http.Request) {
	info, err := h.svc.Collection(r.Context(), refOf(r, r.PathValue("name")))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, describeCollection(info))
}

// replicaAnswer describes one local replica.
type replicaAnswer struct {
	ID          uint64 `json:"id"`
	RaftAddress string `json:"raftAddress"`
	Running     bool   `json:"running"`
	Applied     uint64 `json:"applied,omitempty"`
	Restores    uint64 `json:"snapshotsRestored,omitempty"`
}

func (h *Handler) replicas(w http.ResponseWriter, _ *http.Request) {
	out := []replicaAnswer{}
	for _, rc := range h.svc.cfg.Replicas {
		a := replicaAnswer{ID: rc.ID, RaftAddress: rc.RaftAddress}
		if st, err := h.svc.ReplicaState(rc.ID); err == nil {
			a.Running, a.Applied, a.Restores = true, st.Applied, st.Restores
		}
		out = append(out, a)
	}
	ok(w, http.StatusOK, map[string]any{"region": h.svc.Region(), "leader": h.svc.Leader(), "members": len(h.svc.cfg.Members), "replicas": out})
}

func (h *Handler) replicaAction(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		fail(w, fmt.Errorf("%w: replica id %q", ErrBadRequest, r.PathValue("id")))
		return
	}
	switch r.PathValue("action") {
	case "stop":
		err = h.svc.StopReplica(id)
	case "start":
		err = h.svc.RestartReplica(id)
	default:
		err = fmt.Errorf("%w: action %q (want stop or start)", ErrBadRequest, r.PathValue("action"))
	}
	if err != nil {
		fail(w, err)
		return
	}
	ok(w, http.StatusOK, map[string]any{"id": id, "action": r.PathValue("action")})
}
