package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"slices"
	"strconv"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
)

// The calls ArangoDB's drivers make on connect, with a fabric as the
// database (each also answers at /_db/{fabric}/... and, for _system,
// /_api/...: arangopaths.go):
//
//	GET  /_fabric/{fabric}/_api/version            the version drivers check
//	GET  /_fabric/{fabric}/_api/database/current   the fabric, as a database
//	GET  /_fabric/{fabric}/_api/database/user      the tenant's fabrics
//	GET  /_fabric/_system/_api/database            the same (from _system only)
//	POST /_fabric/_system/_api/database            create a fabric {"name"}
const (
	// ArangoVersion is the ArangoDB version the node claims: its REST API
	// is 3.11's (the last release under the Apache 2.0 license), and
	// drivers turn on features of later releases only when told so.
	ArangoVersion = "3.11.10"
	// maxDatabaseBodyBytes bounds a database creation's body.
	maxDatabaseBodyBytes = 64 << 10
)

// ArangoDB error numbers of the database calls.
const (
	errNumCorruptedJSON       = 600
	errNumDuplicateName       = 1207
	errNumDatabaseNotFound    = 1228
	errNumIllegalDatabaseName = 1229
	errNumUseSystemDatabase   = 1230
)

// versionInfo is GET /_api/version's answer.
type versionInfo struct {
	Server  string            `json:"server"`
	Version string            `json:"version"`
	License string            `json:"license"`
	Details map[string]string `json:"details,omitempty"`
}

// arangoFail answers an ArangoDB error with its own error number.
func arangoFail(w http.ResponseWriter, code, num int, msg string) {
	writeJSON(w, code, envelope{Error: true, Code: code, ErrorNum: num, ErrorMessage: msg})
}

// fabricOr404 returns the request's fabric, or answers 404/1228.
func (h *Handler) fabricOr404(w http.ResponseWriter, r *http.Request) (broker.FabricInfo, bool) {
	fi, found := h.node.Fabric(tenantOf(r), r.PathValue("fabric"))
	if !found {
		arangoFail(w, http.StatusNotFound, errNumDatabaseNotFound, fmt.Sprintf("database not found: %s", r.PathValue("fabric")))
	}
	return fi, found
}

func (h *Handler) version(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.fabricOr404(w, r); !ok {
		return
	}
	v := versionInfo{Server: "arango", Version: ArangoVersion, License: "community"}
	if d := r.URL.Query().Get("details"); d == "true" || d == "1" {
		v.Details = map[string]string{"mode": "server", "role": "SINGLE", "causeway-region": h.node.Config().Region}
	}
	writeJSON(w, http.StatusOK, v)
}

// databaseJSON is a fabric as ArangoDB describes a database.
type databaseJSON struct {
	Name              string   `json:"name"`
	ID                string   `json:"id"`
	IsSystem          bool     `json:"isSystem"`
	Path              string   `json:"path"`
	Sharding          string   `json:"sharding"`
	ReplicationFactor int      `json:"replicationFactor"`
	WriteConcern      int      `json:"writeConcern"`
	Regions           []string `json:"regions"`
}

// databaseID is a fabric's id: stable across nodes and restarts (a hash of
// tenant and name).
func databaseID(fi broker.FabricInfo) string {
	hs := fnv.New64a()
	_, _ = hs.Write([]byte(fi.Tenant + "\x00" + fi.Name))
	return strconv.FormatUint(hs.Sum64()>>12, 10)
}

func (h *Handler) currentDatabase(w http.ResponseWriter, r *http.Request) {
	fi, found := h.fabricOr404(w, r)
	if !found {
		return
	}
	ok(w, http.StatusOK, databaseJSON{Name: fi.Name, ID: databaseID(fi), IsSystem: fi.Name == naming.SystemFabric, Path: "none",
		ReplicationFactor: 1, WriteConcern: 1, Regions: fi.Regions})
}

// fabricNames lists the tenant's fabrics by name.
func (h *Handler) fabricNames(r *http.Request) []string {
	out := []string{}
	for _, fi := range h.node.Fabrics(tenantOf(r)) {
		out = append(out, fi.Name)
	}
	slices.Sort(out)
	return out
}

func (h *Handler) userDatabases(w http.ResponseWriter, r *http.Request) {
	if _, found := h.fabricOr404(w, r); !found {
		return
	}
	ok(w, http.StatusOK, h.fabricNames(r))
}

// systemOnly answers 403/1230 unless the request is on _system, as
// ArangoDB does for database administration.
func systemOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.PathValue("fabric") != naming.SystemFabric {
		arangoFail(w, http.StatusForbidden, errNumUseSystemDatabase, "operation only allowed in system database")
		return false
	}
	return true
}

func (h *Handler) listDatabases(w http.ResponseWriter, r *http.Request) {
	if !systemOnly(w, r) {
		return
	}
	if _, found := h.fabricOr404(w, r); !found {
		return
	}
	ok(w, http.StatusOK, h.fabricNames(r))
}

// databaseRequest is POST /_api/database's body. options are ArangoDB's
// cluster settings of a database; they are accepted and moot (every region
// of a fabric holds every document), except Macrometa's dcList: the
// regions the fabric is pinned to (fabricregions.go).
// users are ArangoDB's database users: access is given with API keys
// here, so a non-empty list is refused.
type databaseRequest struct {
	Name    string          `json:"name"`
	Options *databaseOpts   `json:"options"`
	Users   json.RawMessage `json:"users"`
}

type databaseOpts struct {
	Sharding          json.RawMessage `json:"sharding"`
	ReplicationFactor json.RawMessage `json:"replicationFactor"`
	WriteConcern      json.RawMessage `json:"writeConcern"`
	DCList            json.RawMessage `json:"dcList"`
}

// decodeDatabaseRequest reads a database creation; an unknown field is
// refused with its name.
func decodeDatabaseRequest(body []byte) (databaseRequest, error) {
	var req databaseRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf("body: %w", err)
	}
	if dec.More() {
		return req, errors.New("body: more than one JSON value")
	}
	if u := bytes.TrimSpace(req.Users); len(u) > 0 && !bytes.Equal(u, []byte("null")) && !bytes.Equal(u, []byte("[]")) {
		return req, errors.New("users: database users are not supported (access is given with API keys)")
	}
	return req, nil
}

func (h *Handler) createDatabase(w http.ResponseWriter, r *http.Request) {
	if !systemOnly(w, r) {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDatabaseBodyBytes))
	if err != nil {
		arangoFail(w, http.StatusBadRequest, errNumCorruptedJSON, "read body: "+err.Error())
		return
	}
	req, err := decodeDatabaseRequest(body)
	if err != nil {
		arangoFail(w, http.StatusBadRequest, errNumBadParameter, err.Error())
		return
	}
	if err := naming.Validate("fabric", req.Name); err != nil {
		arangoFail(w, http.StatusBadRequest, errNumIllegalDatabaseName, err.Error())
		return
	}
	if h.node.CheckNamespace(tenantOf(r), req.Name) == nil { // here or on another node of the region
		arangoFail(w, http.StatusConflict, errNumDuplicateName, "duplicate database name "+req.Name)
		return
	}
	var regions []string
	if req.Options != nil {
		if regions, err = parseRegionList(req.Options.DCList); err != nil {
			arangoFail(w, http.StatusBadRequest, errNumBadParameter, "options.dcList: "+err.Error())
			return
		}
	}
	if _, err := h.node.CreateFabricIn(tenantOf(r), req.Name, regions); err != nil {
		fail(w, err)
		return
	}
	ok(w, http.StatusCreated, true)
}
