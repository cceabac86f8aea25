package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/causeway/causeway/collections/service"
)

// readDocuments is ArangoDB's batch read, PUT /document/{collection}
// ?onlyget=true with a body of keys (strings, or objects with _key and,
// with ignoreRevs=false, the _rev they must have). It writes nothing. The
// answer is 200 with one entry per key in order: the document, or an
// error object ({"error":true,"code":404,"errorNum":1202,...} for a
// missing one, 412/1200 for a _rev that does not match), counted in
// X-Arango-Error-Codes as batch writes do. An unknown collection or a
// malformed body fails the whole request.
func (h *Handler) readDocuments(w http.ResponseWriter, r *http.Request) {
	// The write options of the route make no sense on a read: refuse them
	// rather than ignore them.
	if err := paramsRead.Check(r.URL.RawQuery); err != nil {
		fail(w, fmt.Errorf("%w (onlyget=true reads)", err))
		return
	}
	ignoreRevs, err := boolParam(r, "ignoreRevs", true)
	if err != nil {
		fail(w, err)
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	keys, err := keysInput(body)
	if err != nil {
		fail(w, err)
		return
	}
	rf := ref(r, "collection")
	if _, err := h.svc.Collection(rf); err != nil {
		fail(w, err)
		return
	}
	out := make([]json.RawMessage, len(keys))
	counts := map[int]int{}
	for i, k := range keys {
		doc, rev, err := h.svc.Document(rf, k.key)
		if err == nil && !ignoreRevs && k.rev != "" && k.rev != rev {
			err = fmt.Errorf("%w: %s has _rev %q, the request wants %q", service.ErrPrecondition, k.key, rev, k.rev)
		}
		if errors.Is(err, service.ErrCollectionNotFound) || errors.Is(err, service.ErrFabricNotFound) {
			fail(w, err) // dropped while we read
			return
		}
		if err != nil {
			status, num := codes(err)
			counts[num]++
			b, _ := json.Marshal(errorBody{Error: true, Code: status, ErrorNum: num, ErrorMessage: err.Error()})
			out[i] = b
			continue
		}
		out[i] = doc
	}
	setErrorCodes(w, counts)
	writeJSON(w, http.StatusOK, out)
}

// setErrorCodes sets X-Arango-Error-Codes ("num:count,..." in number
// order) when a batch answer holds errors.
func setErrorCodes(w http.ResponseWriter, counts map[int]int) {
	if len(counts) == 0 {
		return
	}
	nums := make([]int, 0, len(counts))
	for n := range counts {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	parts := make([]string, len(nums))
	for i, n := range nums {
		parts[i] = strconv.Itoa(n) + ":" + strconv.Itoa(counts[n])
	}
	w.Header().Set("X-Arango-Error-Codes", strings.Join(parts, ","))
}
