package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestNodeCommand: causeway node refuses bad arguments with usage (exit 2)
// and sends drain and remove to the first node that answers, reporting a
// refusal (409: drain it first) as an error.
func TestNodeCommand(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		if r.Method == http.MethodDelete && strings.HasSuffix(r.URL.Path, "/2") {
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`{"error":true,"code":409,"errorMessage":"node 2 holds stream:x (drain it first)"}`))
			return
		}
		_, _ = w.Write([]byte(`{"error":false,"code":200,"result":{}}`))
	}))
	defer srv.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":true,"code":503,"errorMessage":"starting"}`))
	}))
	defer down.Close()
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"no action", []string{}, 2, "Usage"},
		{"unknown action", []string{"evict", "1", "--url", srv.URL}, 2, "Usage"},
		{"no id", []string{"drain"}, 2, "Usage"},
		{"bad id", []string{"drain", "x", "--url", srv.URL}, 2, "positive integer"},
		{"zero id", []string{"remove", "0", "--url", srv.URL}, 2, "positive integer"},
		{"no url", []string{"drain", "1"}, 2, "give --url"},
		{"stray argument", []string{"drain", "1", "--url", srv.URL, "extra"}, 2, "give --url"},
		{"drain", []string{"drain", "1", "--url", down.URL + "," + srv.URL, "--token", "k"}, 0, "node 1 is draining"},
		{"remove", []string{"remove", "3", "--url", srv.URL, "--token", "k"}, 0, "node 3 left the region"},
		{"remove refused", []string{"remove", "2", "--url", srv.URL, "--token", "k"}, 1, "drain it first"},
		{"nobody answers", []string{"drain", "1", "--url", down.URL, "--token", "k"}, 1, "no node of the region answered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(append([]string{"node"}, tt.args...), nil, &out, &errOut)
			if code != tt.code || !strings.Contains(out.String()+errOut.String(), tt.out) {
				t.Fatalf("exit %d (want %d), output %q %q, want %q", code, tt.code, out.String(), errOut.String(), tt.out)
			}
		})
	}
	want := []string{"POST /_api/region/nodes/1/drain Bearer k", "DELETE /_api/region/nodes/3 Bearer k", "DELETE /_api/region/nodes/2 Bearer k"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("requests %q, want %q", got, want)
	}
}
