package streamworkers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/internal/leaderproxy"
	qp "github.com/causeway/causeway/internal/queryparam"
	"github.com/causeway/causeway/streamworkers/engine"
)

// BasePath is the stream workers' API of a fabric (Macrometa's path).
const BasePath = "/_fabric/{fabric}/_api/streamapps"

// maxBodyBytes bounds a request body.
const maxBodyBytes = 1 << 20

// tenantHeader carries the request's tenant (set by broker/httpapi).
const tenantHeader = "X-Causeway-Tenant"

// Mounter is where the API mounts (broker/httpapi.Handler).
type Mounter interface {
	HandleParams(pattern string, params qp.Set, handler http.Handler)
}

var (
	noParams     = qp.New()
	activeParams = qp.New(qp.Bool("active"))
)

// Mount routes the API's paths to the runner.
func (r *Runner) Mount(m Mounter) {
	h := func(fn func(http.ResponseWriter, *http.Request)) http.Handler { return r.located(fn) }
	m.HandleParams("GET "+BasePath, noParams, h(r.serveList))
	m.HandleParams("POST "+BasePath, noParams, h(r.serveCreate))
	m.HandleParams("GET "+BasePath+"/{name}", noParams, h(r.serveGet))
	m.HandleParams("PUT "+BasePath+"/{name}", noParams, h(r.serveUpdate))
	m.HandleParams("DELETE "+BasePath+"/{name}", noParams, h(r.serveDelete))
	m.HandleParams("PATCH "+BasePath+"/{name}/active", activeParams, h(r.serveActive))
	m.HandleParams("POST "+BasePath+"/{name}/active", activeParams, h(r.serveActive))
	// A dry run reads the inputs where the fabric's workers run (in a geo
	// region of several nodes, the node leading its global streams).
	m.HandleParams("POST "+BasePath+"/query/dry-run", noParams, h(r.serveDryRun))
}

// located serves a request on the node that serves the fabric's
// definitions (and runs its workers): in a region of several nodes
// another node's requests are proxied there, once.
func (r *Runner) located(fn func(http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		tenant, fabric := req.Header.Get(tenantHeader), req.PathValue("fabric")
		err := r.cols.Locate(defsRef(tenant, fabric))
		if err == nil && !r.hasDefinitions(tenant, fabric) {
			// No _streamapps yet: the first create makes it, on the node
			// that changes the region's catalog.
			err = r.cols.LocateReplication()
		}
		var elsewhere *service.ElsewhereError
		switch {
		case err == nil:
			fn(w, req)
		case errors.As(err, &elsewhere) && !leaderproxy.Proxied(req):
			leaderproxy.Serve(w, req, elsewhere.URL, r.log, fail)
		default:
			fail(w, fmt.Errorf("%w: %w", ErrUnavailable, err))
		}
	})
}

// App is a definition as the API shows it, with its figures on the node
// running it in the region answering (nil when none does).
type App struct {
	Definition
	Stats *Stats `json:"stats"`
}

type appsAnswer struct {
	Error bool  `json:"error"`
	Code  int   `json:"code"`
	Apps  []App `json:"streamApps"`
}

func (r *Runner) app(tenant, fabric string, d Definition) App {
	a := App{Definition: d}
	if d.Regions == nil {
		a.Regions = []string{}
	}
	if st, ok := r.stats(workerID{Tenant: tenant, Fabric: fabric, Name: d.Name}); ok {
		a.Stats = &st
	}
	return a
}

func (r *Runner) serveList(w http.ResponseWriter, req *http.Request) {
	tenant, fabric, ok := r.fabric(w, req)
	if !ok {
		return
	}
	defs, err := r.defs.list(tenant, fabric)
	if err != nil {
		fail(w, err)
		return
	}
	apps := make([]App, 0, len(defs))
	for _, d := range defs {
		apps = append(apps, r.app(tenant, fabric, d))
	}
	writeJSON(w, http.StatusOK, appsAnswer{Code: http.StatusOK, Apps: apps})
}

func (r *Runner) serveGet(w http.ResponseWriter, req *http.Request) {
	tenant, fabric, ok := r.fabric(w, req)
	if !ok {
		return
	}
	d, _, err := r.defs.get(tenant, fabric, req.PathValue("name"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, appsAnswer{Code: http.StatusOK, Apps: []App{r.app(tenant, fabric, d)}})
}

func (r *Runner) serveCreate(w http.ResponseWriter, req *http.Request) {
	tenant, fabric, ok := r.fabric(w, req)
	if !ok {
		return
	}
	var in Input
	if err := decodeBody(req, &in); err != nil {
		fail(w, err)
		return
	}
	if err := ValidateName(in.Name); err != nil {
		fail(w, err)
		return
	}
	now := r.opts.Now().UnixMilli()
	d := Definition{Name: in.Name, Version: 1, CreatedAt: now, UpdatedAt: now}
	if in.IsActive != nil {
		d.Active = *in.IsActive
	}
	d, err := r.apply(tenant, fabric, d, in)
	if err != nil {
		fail(w, err)
		return
	}
	if err := r.defs.create(tenant, fabric, d); err != nil {
		fail(w, err)
		return
	}
	r.poke()
	writeJSON(w, http.StatusCreated, appsAnswer{Code: http.StatusCreated, Apps: []App{r.app(tenant, fabric, d)}})
}

func (r *Runner) serveUpdate(w http.ResponseWriter, req *http.Request) {
	tenant, fabric, ok := r.fabric(w, req)
	if !ok {
		return
	}
	var in Input
	if err := decodeBody(req, &in); err != nil {
		fail(w, err)
		return
	}
	name := req.PathValue("name")
	if in.Name != "" && in.Name != name {
		fail(w, fmt.Errorf("%w: the body names %q, the path %q (a worker cannot be renamed)", ErrBadRequest, in.Name, name))
		return
	}
	cur, rev, err := r.defs.get(tenant, fabric, name)
	if err != nil {
		fail(w, err)
		return
	}
	d := cur
	d.Version++
	d.UpdatedAt = r.opts.Now().UnixMilli()
	if in.IsActive != nil {
		d.Active = *in.IsActive
	}
	if in.Limits == nil {
		in.Limits = &cur.Limits
	}
	if in.Start == "" {
		in.Start = cur.Start
	}
	if d, err = r.apply(tenant, fabric, d, in); err != nil {
		fail(w, err)
		return
	}
	if err := r.defs.replace(tenant, fabric, d, rev); err != nil {
		fail(w, err)
		return
	}
	r.poke()
	writeJSON(w, http.StatusOK, appsAnswer{Code: http.StatusOK, Apps: []App{r.app(tenant, fabric, d)}})
}

// apply validates and compiles what an input sets into d.
func (r *Runner) apply(tenant, fabric string, d Definition, in Input) (Definition, error) {
	q, err := in.query()
	if err != nil {
		return d, err
	}
	if len(q) > maxQueryBytes {
		return d, fmt.Errorf("%w: a query of %d bytes, the limit is %d", ErrBadRequest, len(q), maxQueryBytes)
	}
	plan, err := engine.Compile(q, r.catalog(tenant, fabric))
	if err != nil {
		return d, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if err := checkOutput(plan.Output); err != nil {
		return d, err
	}
	fi, _ := r.node.Fabric(tenant, fabric)
	if d.Regions, err = checkRegions(in.Regions, fi.Regions); err != nil {
		return d, err
	}
	if d.Start, err = checkStart(in.Start); err != nil {
		return d, err
	}
	if in.Limits != nil {
		if d.Limits, err = checkLimits(*in.Limits, r.opts.Max); err != nil {
			return d, err
		}
	}
	d.Query = q
	return d, nil
}

func (r *Runner) serveDelete(w http.ResponseWriter, req *http.Request) {
	tenant, fabric, ok := r.fabric(w, req)
	if !ok {
		return
	}
	name := req.PathValue("name")
	if err := ValidateName(name); err != nil {
		fail(w, err)
		return
	}
	if err := r.defs.remove(tenant, fabric, name); err != nil {
		fail(w, err)
		return
	}
	r.forget(workerID{Tenant: tenant, Fabric: fabric, Name: name})
	writeJSON(w, http.StatusOK, map[string]any{"error": false, "code": http.StatusOK, "name": name})
}

func (r *Runner) serveActive(w http.ResponseWriter, req *http.Request) {
	tenant, fabric, ok := r.fabric(w, req)
	if !ok {
		return
	}
	v := req.URL.Query().Get("active")
	if v == "" {
		fail(w, fmt.Errorf("%w: give ?active=true or ?active=false", ErrBadRequest))
		return
	}
	active, err := strconv.ParseBool(v) // the route's params checked it
	if err != nil {
		fail(w, fmt.Errorf("%w: active=%q: want true or false", ErrBadRequest, v))
		return
	}
	cur, rev, err := r.defs.get(tenant, fabric, req.PathValue("name"))
	if err != nil {
		fail(w, err)
		return
	}
	if cur.Active != active {
		cur.Active = active
		cur.UpdatedAt = r.opts.Now().UnixMilli()
		if err := r.defs.replace(tenant, fabric, cur, rev); err != nil {
			fail(w, err)
			return
		}
		r.poke()
	}
	writeJSON(w, http.StatusOK, appsAnswer{Code: http.StatusOK, Apps: []App{r.app(tenant, fabric, cur)}})
}

// checkOutput refuses an output a client could not write: a stream name
// the broker refuses or reserves (a collection's op log or change feed),
// a collection name the collections refuse.
func checkOutput(o engine.Output) error {
	var err error
	switch {
	case o.Name == "":
		return nil // no output: a query for dry runs
	case o.Kind == engine.OutputStream:
		if err = naming.Validate("stream", o.Name); err == nil {
			err = naming.CheckClientWrite(o.Name)
		}
	default:
		err = collections.ValidateCollectionName(o.Name)
	}
	if err != nil {
		return fmt.Errorf("%w: output %s %s: %w", ErrBadRequest, o.Kind, o.Name, err)
	}
	return nil
}

// fabric returns the request's tenant and fabric, answering 404 when the
// fabric does not exist.
func (r *Runner) fabric(w http.ResponseWriter, req *http.Request) (string, string, bool) {
	tenant, fabric := req.Header.Get(tenantHeader), req.PathValue("fabric")
	if err := r.node.CheckNamespace(tenant, fabric); err != nil {
		if errors.Is(err, broker.ErrFabricNotFound) || errors.Is(err, broker.ErrTenantNotFound) {
			err = fmt.Errorf("%w: %w", ErrFabricMissing, err)
		}
		fail(w, err)
		return "", "", false
	}
	return tenant, fabric, true
}

// decodeBody reads a JSON body, refusing unknown fields and trailing data.
func decodeBody(req *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(req.Body, maxBodyBytes+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: the body is not the JSON object expected: %w", ErrBadRequest, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the JSON object", ErrBadRequest)
	}
	return nil
}

type errorAnswer struct {
	Error        bool   `json:"error"`
	Code         int    `json:"code"`
	ErrorNum     int    `json:"errorNum"`
	ErrorMessage string `json:"errorMessage"`
}

// status maps an error to its HTTP status.
func status(err error) int {
	switch {
	case errors.Is(err, ErrBadRequest), errors.Is(err, qp.ErrBadParam):
		return http.StatusBadRequest
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrFabricMissing):
		return http.StatusNotFound
	case errors.Is(err, ErrExists):
		return http.StatusConflict
	case errors.Is(err, ErrConflict):
		return http.StatusPreconditionFailed
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	if code := broker.HTTPStatus(err); code != http.StatusInternalServerError {
		return code
	}
	return http.StatusInternalServerError
}

func fail(w http.ResponseWriter, err error) {
	code := status(err)
	writeJSON(w, code, errorAnswer{Error: true, Code: code, ErrorNum: code, ErrorMessage: err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client went away: nothing to do
}
