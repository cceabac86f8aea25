package ship

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/causeway/causeway/region"
)

// FetchPath is where a node's data address serves fetches.
const FetchPath = "/_region/fetch"

// answerMethod signs answers apart from requests, so an answer can never
// be replayed as a request.
const answerMethod = "ANSWER"

// send posts a signed fetch to the leader at addr (host:port) and returns
// its checked, signed answer.
func (m *Manager) send(ctx context.Context, addr string, req Request) (Response, error) {
	return sendFetch(ctx, m.cfg.Client, m.cfg.Secret, addr, req)
}

func sendFetch(ctx context.Context, client *http.Client, secret, addr string, req Request) (Response, error) {
	body := EncodeRequest(req)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+FetchPath, bytes.NewReader(body))
	if err != nil {
		return Response{}, fmt.Errorf("ship: fetch from %s: %w", addr, err)
	}
	hreq.Header.Set(region.AuthHeader, region.Sign(secret, http.MethodPost, FetchPath, body))
	hresp, err := client.Do(hreq)
	if err != nil {
		return Response{}, fmt.Errorf("ship: fetch from %s: %w", addr, err)
	}
	defer hresp.Body.Close()
	answer, err := readBody(hresp)
	if err != nil {
		return Response{}, fmt.Errorf("ship: fetch from %s: %w", addr, err)
	}
	if hresp.StatusCode != http.StatusOK {
		return Response{}, fmt.Errorf("ship: fetch from %s: %s: %s", addr, hresp.Status, bytes.TrimSpace(answer[:min(len(answer), 256)]))
	}
	if !region.SignatureValid(secret, hresp.Header.Get(region.AuthHeader), answerMethod, FetchPath, answer) {
		return Response{}, fmt.Errorf("ship: fetch from %s: the answer is not signed with the region secret", addr)
	}
	resp, err := DecodeResponse(answer)
	if err != nil {
		return Response{}, fmt.Errorf("ship: fetch from %s: %w", addr, err)
	}
	if resp.Unit != req.Unit {
		return Response{}, fmt.Errorf("ship: fetch from %s: answer for %q to a fetch of %q", addr, resp.Unit, req.Unit)
	}
	return resp, nil
}

// Handler serves fetches at FetchPath: requests not signed with the
// region secret are refused (401) and malformed ones answered 400; both
// change nothing.
func (m *Manager) Handler() http.Handler {
	return fetchHandler(m.cfg.Secret, m.serve)
}

// fetchHandler serves signed fetches with serve.
func fetchHandler(secret string, serve func(context.Context, Request) (Response, error)) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+FetchPath, func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBytes+1))
		if err != nil || len(body) > MaxRequestBytes {
			http.Error(w, "ship: fetch request too large", http.StatusRequestEntityTooLarge)
			return
		}
		if !region.SignatureValid(secret, r.Header.Get(region.AuthHeader), r.Method, FetchPath, body) {
			http.Error(w, "ship: not signed with the region secret", http.StatusUnauthorized)
			return
		}
		req, err := DecodeRequest(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		resp, err := serve(r.Context(), req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		answer := EncodeResponse(resp)
		w.Header().Set(region.AuthHeader, region.Sign(secret, answerMethod, FetchPath, answer))
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(answer)
	})
	return mux
}

// serve answers a fetch from the unit's replica here, if any.
func (m *Manager) serve(ctx context.Context, req Request) (Response, error) {
	rep := m.Replica(req.Unit)
	if rep == nil {
		return Response{FetchResponse: region.FetchResponse{Unit: req.Unit, Offset: req.Offset, LastEpoch: req.LastEpoch, Err: region.FetchNotReplica}}, nil
	}
	return rep.fetch(ctx, req)
}

// readBody reads an answer of up to MaxResponseBytes (+1, to tell a larger
// one), sized by its Content-Length when it has one: reading a 1 MiB answer
// by doubling a buffer copies it several times.
func readBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n <= MaxResponseBytes {
		buf := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
}
