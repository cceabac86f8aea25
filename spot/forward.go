package spot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Headers of forwarded requests.
const (
	// headerForwarded carries the region a request was forwarded from; the
	// receiving node serves it from its own group or refuses it, and never
	// forwards it again.
	headerForwarded = "X-Causeway-Spot-Forwarded"
	// headerRequestID carries the request id that makes retries safe.
	headerRequestID = "X-Causeway-Request-Id"
	// headerTenant is set by the broker's HTTP handler from the
	// /_tenant/{tenant} prefix.
	headerTenant = "X-Causeway-Tenant"
)

// maxAnswerBytes bounds an answer read from another region.
const maxAnswerBytes = 8 * MaxTxnBytes

// forwarder sends requests for collections homed elsewhere to a node of the
// home region over HTTP. It retries transport failures (trying each of the
// region's URLs in turn) until RetryTimeout; a retried write is safe, as
// it carries the same request id.
type forwarder struct {
	cfg  Config
	next atomic.Uint64
	// regionNodes, when set, gives the URLs of this region's nodes that
	// run a replica of its group (Options.RegionNodes).
	regionNodes func() []string

	mu      sync.RWMutex
	regions map[string][]string
}

func newForwarder(cfg Config) *forwarder {
	f := &forwarder{cfg: cfg}
	f.setRegions(cfg.Regions)
	return f
}

// setRegions replaces the region to URLs map.
func (f *forwarder) setRegions(regions map[string][]string) {
	m := make(map[string][]string, len(regions))
	for r, urls := range regions {
		m[r] = slices.Clone(urls)
	}
	f.mu.Lock()
	f.regions = m
	f.mu.Unlock()
}

// urls returns a region's base URLs: for this region in a region of
// several nodes, those of the nodes that run a replica of its group.
func (f *forwarder) urls(region string) []string {
	if region == f.cfg.Region && f.regionNodes != nil {
		return f.regionNodes()
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.regions[region]
}

// otherRegions returns the regions other than this one, sorted.
func (f *forwarder) otherRegions() []string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []string
	for r := range f.regions {
		if r != f.cfg.Region {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}

// forwardedKey marks the context of a request forwarded to this node: it
// is served here or refused, never forwarded again (no loops between
// nodes that each think another serves it).
type forwardedKey struct{}

// credentialKey carries the caller's Authorization header in a context:
// a forwarded request acts for the same principal in the home region.
type credentialKey struct{}

// WithCredential returns ctx carrying an Authorization header value for
// the requests forwarded on its behalf.
func WithCredential(ctx context.Context, authorization string) context.Context {
	if authorization == "" {
		return ctx
	}
	return context.WithValue(ctx, credentialKey{}, authorization)
}

// errorAnswer is the error envelope of every SPOT answer.
type errorAnswer struct {
	Error              bool   `json:"error"`
	Code               int    `json:"code"`
	ErrorNum           int    `json:"errorNum"`
	ErrorMessage       string `json:"errorMessage"`
	ErrorCode          string `json:"errorCode,omitempty"`
	FailedOperation    *int   `json:"failedOperation,omitempty"`
	FailedPrecondition *int   `json:"failedPrecondition,omitempty"`
}

// newErrorAnswer describes err for the wire.
func newErrorAnswer(err error) errorAnswer {
	status, num := Codes(err)
	a := errorAnswer{Error: true, Code: status, ErrorNum: num, ErrorMessage: err.Error(), ErrorCode: errorCode(err)}
	var te *TxnError
	if errors.As(err, &te) {
		if te.Op >= 0 {
			a.FailedOperation = &te.Op
		}
		if te.Precondition >= 0 {
			a.FailedPrecondition = &te.Precondition
		}
	}
	return a
}

// err rebuilds the error an answer describes.
func (a *errorAnswer) err() error {
	w := &wireErr{Code: a.ErrorCode, Message: a.ErrorMessage, Op: -1, Precondition: -1}
	if w.Code == "" {
		w.Code = "internal"
	}
	if a.FailedOperation != nil {
		w.Op = *a.FailedOperation
		w.Message = strings.TrimPrefix(w.Message, "operation "+strconv.Itoa(w.Op)+": ")
	} else if a.FailedPrecondition != nil {
		w.Precondition = *a.FailedPrecondition
		w.Message = strings.TrimPrefix(w.Message, "precondition "+strconv.Itoa(w.Precondition)+": ")
	}
	return w.err()
}

func fabricPath(tenant, fabric, rest string) string {
	return "/_tenant/" + url.PathEscape(tenant) + "/_fabric/" + url.PathEscape(fabric) + "/_api/" + rest
}

func (f *forwarder) transaction(ctx context.Context, home, tenant, fabric string, t *Txn, requestID string) (*TxnResult, error) {
	var res TxnResult
	if err := f.call(ctx, home, http.MethodPost, fabricPath(tenant, fabric, "transaction"), t, requestID, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

func (f *forwarder) createCollection(ctx context.Context, tenant, fabric string, spec CollectionSpec) (CollectionInfo, error) {
	var res struct {
		Result CollectionInfo `json:"result"`
	}
	err := f.call(ctx, spec.Home, http.MethodPost, fabricPath(tenant, fabric, "spot/collection"), spec, newRequestID(), &res)
	return res.Result, err
}

func (f *forwarder) dropCollection(ctx context.Context, home string, ref Ref) error {
	return f.call(ctx, home, http.MethodDelete, fabricPath(ref.Tenant, ref.Fabric, "spot/collection/"+url.PathEscape(ref.Collection)), nil, newRequestID(), nil)
}

func (f *forwarder) collection(ctx context.Context, region string, ref Ref) (CollectionInfo, error) {
	var res struct {
		Result CollectionInfo `json:"result"`
	}
	err := f.call(ctx, region, http.MethodGet, fabricPath(ref.Tenant, ref.Fabric, "spot/collection/"+url.PathEscape(ref.Collection)), nil, "", &res)
	return res.Result, err
}

func (f *forwarder) collections(ctx context.Context, region, tenant, fabric string) ([]CollectionInfo, error) {
	var res struct {
		Result []CollectionInfo `json:"result"`
	}
	err := f.call(ctx, region, http.MethodGet, fabricPath(tenant, fabric, "spot/collection"), nil, "", &res)
	return res.Result, err
}

func (f *forwarder) list(ctx context.Context, home string, ref Ref, after string, limit int) (*ListResult, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if after != "" {
		q.Set("after", after)
	}
	var res ListResult
	path := fabricPath(ref.Tenant, ref.Fabric, "spot/collection/"+url.PathEscape(ref.Collection)+"/documents") + "?" + q.Encode()
	if err := f.call(ctx, home, http.MethodGet, path, nil, "", &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// call sends one request to region, retrying transport failures on each
// of its URLs until RetryTimeout, and decodes the answer into out (nil:
// ignore it). An error answer comes back as the error it names.
func (f *forwarder) call(ctx context.Context, region, method, path string, body any, requestID string, out any) error {
	if fwd, _ := ctx.Value(forwardedKey{}).(bool); fwd {
		return fmt.Errorf("%w: a request forwarded to this node is served here or refused, and this node does not serve region %s's SPOT group now", ErrUnavailable, region)
	}
	urls := f.urls(region)
	if len(urls) == 0 {
		return fmt.Errorf("%w: no HTTP address configured for region %s", ErrUnavailable, region)
	}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("%w: encode request: %w", ErrBadRequest, err)
		}
	}
	deadline := time.Now().Add(f.cfg.RetryTimeout)
	backoff := minRetryBackoff
	var last error
	for {
		start := int(f.next.Add(1) % uint64(len(urls)))
		for i := range urls {
			base := strings.TrimSuffix(urls[(start+i)%len(urls)], "/")
			done, err := f.try(ctx, method, base+path, payload, requestID, out)
			if done {
				return err
			}
			last = err
			if ctx.Err() != nil {
				return fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
			}
		}
		wait := min(backoff, time.Until(deadline))
		if wait <= 0 {
			return fmt.Errorf("%w: region %s did not answer within %s (last error: %v)", ErrUnavailable, region, f.cfg.RetryTimeout, last)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
		case <-t.C:
		}
		backoff = min(2*backoff, maxRetryBackoff)
	}
}

// try sends the request once. done is false when another try may succeed
// (the node was unreachable, or is shutting down).
func (f *forwarder) try(ctx context.Context, method, u string, payload []byte, requestID string, out any) (done bool, err error) {
	// The home retries leader changes for up to RetryTimeout itself.
	actx, cancel := context.WithTimeout(ctx, f.cfg.RetryTimeout+f.cfg.AttemptTimeout)
	defer cancel()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(actx, method, u, body)
	if err != nil {
		return true, fmt.Errorf("%w: forward: %w", ErrInternal, err)
	}
	req.Header.Set(headerForwarded, f.cfg.Region)
	if cred, ok := ctx.Value(credentialKey{}).(string); ok {
		req.Header.Set("Authorization", cred)
	}
	if requestID != "" {
		req.Header.Set(headerRequestID, requestID)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.cfg.HTTPClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return false, err
	}
	if len(b) > maxAnswerBytes {
		return true, fmt.Errorf("%w: answer from %s larger than %d bytes", ErrTooLarge, u, maxAnswerBytes)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil {
			return true, nil
		}
		if err := json.Unmarshal(b, out); err != nil {
			return true, fmt.Errorf("%w: answer from %s: %w", ErrInternal, u, err)
		}
		return true, nil
	}
	var a errorAnswer
	if err := json.Unmarshal(b, &a); err != nil || a.ErrorCode == "" {
		// Not a SPOT answer: a proxy, or a node without SPOT routes.
		retry := resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusGatewayTimeout
		return !retry, fmt.Errorf("%w: %s answered %d: %s", ErrUnavailable, u, resp.StatusCode, truncate(b))
	}
	err = a.err()
	return !errors.Is(err, ErrClosed), err
}
