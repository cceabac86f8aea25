package collections

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/causeway/causeway/broker/naming"
)

// maxResponseBytes bounds a response body read by the bench.
const maxResponseBytes = 4 << 20

// errStatus is wrapped by errors about an unexpected HTTP status.
var errStatus = errors.New("collections: unexpected HTTP status")

// api is one region's collections HTTP API.
type api struct {
	token  string // "" when the node runs without authentication
	prefix string // http://host:port[/_tenant/t]/_fabric/f/_api/
	httpc  *http.Client
}

func newAPI(base, tenant, fabric, token string, httpc *http.Client) *api {
	p := base
	if tenant != "" && tenant != naming.DefaultTenant {
		p += "/_tenant/" + url.PathEscape(tenant)
	}
	if fabric == "" {
		fabric = naming.SystemFabric
	}
	return &api{prefix: p + "/_fabric/" + url.PathEscape(fabric) + "/_api/", httpc: httpc, token: token}
}

// do sends a request and returns the body of a 2xx answer (or of one of
// okAlso).
func (a *api) do(ctx context.Context, method, path string, body []byte, okAlso ...int) ([]byte, int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.prefix+path, rd)
	if err != nil {
		return nil, 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.httpc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, resp.StatusCode, err
	}
	if resp.StatusCode/100 == 2 {
		return b, resp.StatusCode, nil
	}
	for _, c := range okAlso {
		if resp.StatusCode == c {
			return b, resp.StatusCode, nil
		}
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return nil, resp.StatusCode, fmt.Errorf("%w: %s %s: %d %s", errStatus, method, path, resp.StatusCode, bytes.TrimSpace(b))
}

func (a *api) createCollection(ctx context.Context, name string) error {
	body, _ := json.Marshal(map[string]string{"name": name})
	_, _, err := a.do(ctx, http.MethodPost, "collection", body, http.StatusConflict)
	return err
}

func (a *api) dropCollection(ctx context.Context, name string) error {
	_, _, err := a.do(ctx, http.MethodDelete, "collection/"+url.PathEscape(name), nil, http.StatusNotFound)
	return err
}

func (a *api) insert(ctx context.Context, coll string, doc []byte) error {
	_, _, err := a.do(ctx, http.MethodPost, "document/"+url.PathEscape(coll), doc)
	return err
}

var incrementBody = []byte(`{"n":{"$inc":1}}`)

func (a *api) increment(ctx context.Context, coll, key string) error {
	_, _, err := a.do(ctx, http.MethodPatch, "document/"+url.PathEscape(coll)+"/"+url.PathEscape(key), incrementBody)
	return err
}

func (a *api) read(ctx context.Context, coll, key string) error {
	_, _, err := a.do(ctx, http.MethodGet, "document/"+url.PathEscape(coll)+"/"+url.PathEscape(key), nil)
	return err
}

type cursorAnswer struct {
	Result []json.RawMessage `json:"result"`
}

func (a *api) query(ctx context.Context, q string, bind map[string]any) ([]json.RawMessage, error) {
	body, err := json.Marshal(map[string]any{"query": q, "bindVars": bind})
	if err != nil {
		return nil, err
	}
	b, _, err := a.do(ctx, http.MethodPost, "cursor", body)
	if err != nil {
		return nil, err
	}
	var ans cursorAnswer
	if err := json.Unmarshal(b, &ans); err != nil {
		return nil, fmt.Errorf("collections: cursor answer: %w", err)
	}
	return ans.Result, nil
}

// tally counts the collection's documents and sums their counters.
func (a *api) tally(ctx context.Context, coll string) (Tally, error) {
	rows, err := a.query(ctx, "SELECT COUNT(*) AS c, SUM(n) AS s FROM "+coll, nil)
	if err != nil {
		return Tally{}, err
	}
	if len(rows) != 1 {
		return Tally{}, fmt.Errorf("collections: tally: %d rows", len(rows))
	}
	return parseTally(rows[0])
}

// parseTally reads {"c": N, "s": M} (s may be null for no documents).
func parseTally(row []byte) (Tally, error) {
	var v struct {
		C json.Number  `json:"c"`
		S *json.Number `json:"s"`
	}
	dec := json.NewDecoder(bytes.NewReader(row))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return Tally{}, fmt.Errorf("collections: tally row %s: %w", row, err)
	}
	var t Tally
	var err error
	if t.Docs, err = parseInt(v.C); err != nil {
		return Tally{}, fmt.Errorf("collections: tally count %q: %w", v.C, err)
	}
	if v.S != nil {
		if t.Sum, err = parseInt(*v.S); err != nil {
			return Tally{}, fmt.Errorf("collections: tally sum %q: %w", *v.S, err)
		}
	}
	return t, nil
}

func parseInt(n json.Number) (int64, error) {
	if i, err := n.Int64(); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f != float64(int64(f)) {
		return 0, fmt.Errorf("not an integer")
	}
	return int64(f), nil
}
