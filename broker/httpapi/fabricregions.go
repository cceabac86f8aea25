package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/causeway/causeway/broker"
)

// maxFabricBodyBytes bounds a fabric creation's body.
const maxFabricBodyBytes = 64 << 10

// fabricRequest is POST /_fabric/{fabric}/_api/fabric's optional body: the
// regions the fabric is pinned to, as "regions" or Macrometa's
// options.dcList (a comma-separated string or a list). No body, or no
// list: every region.
type fabricRequest struct {
	Regions json.RawMessage `json:"regions"`
	Options *struct {
		DCList json.RawMessage `json:"dcList"`
	} `json:"options"`
}

// fabricRegionsOf reads the region list of a fabric creation.
func fabricRegionsOf(w http.ResponseWriter, r *http.Request) ([]string, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFabricBodyBytes))
	if err != nil {
		return nil, fmt.Errorf("%w: read body: %v", broker.ErrBadRequest, err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	var req fabricRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("%w: body: %v", broker.ErrBadRequest, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: body: more than one JSON value", broker.ErrBadRequest)
	}
	raw := req.Regions
	if req.Options != nil {
		if len(raw) > 0 && len(req.Options.DCList) > 0 {
			return nil, fmt.Errorf("%w: regions and options.dcList both given", broker.ErrBadRequest)
		}
		if len(raw) == 0 {
			raw = req.Options.DCList
		}
	}
	regions, err := parseRegionList(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: regions: %v", broker.ErrBadRequest, err)
	}
	return regions, nil
}

// parseRegionList reads a region list given as a comma-separated string
// or a JSON list of strings (absent or null: none). An empty string or
// list is an error: a fabric needs a region.
func parseRegionList(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var list []string
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		for _, r := range strings.Split(s, ",") {
			list = append(list, strings.TrimSpace(r))
		}
	} else if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("want a comma-separated string or a list of region names")
	}
	if len(list) == 0 {
		return nil, errors.New("empty: a fabric needs at least one region")
	}
	for _, r := range list {
		if r == "" {
			return nil, errors.New("an empty region name")
		}
	}
	return list, nil
}

// fabricServedHere refuses, before any route, a request under
// /_fabric/{fabric}/ for a fabric pinned to regions this one is not among
// (421 naming them): every API of the fabric (streams, collections, SPOT,
// queries, stream workers) is refused the same way. An unknown fabric
// passes: the route answers it.
func (h *Handler) fabricServedHere(tenant, path string) error {
	rest, ok := strings.CutPrefix(path, "/_fabric/")
	if !ok {
		return nil
	}
	name, _, _ := strings.Cut(rest, "/")
	return h.node.FabricReady(tenant, name)
}
