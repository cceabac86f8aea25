package clients

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestCreateStream(t *testing.T) {
	var (
		mu  sync.Mutex
		got []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.String()+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		if strings.Contains(r.URL.Path, "dup") {
			http.Error(w, `{"error":true,"errorMessage":"stream already exists"}`, http.StatusConflict)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	c, err := New(srv.URL, WithToken("tok"), WithFabric("f"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateStream(ctxT(t), "s", true); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateStream(ctxT(t), "t/g/s", false); err != nil {
		t.Fatal(err)
	}
	err = c.CreateStream(ctxT(t), "dup", false)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "stream already exists") {
		t.Fatalf("duplicate: %v", err)
	}
	if err := c.CreateStream(ctxT(t), "a b", false); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad name: %v", err)
	}
	want := "POST /_fabric/f/_api/streams/s?global=true Bearer tok|POST /_tenant/t/_fabric/g/_api/streams/s?global=false Bearer tok|POST /_fabric/f/_api/streams/dup?global=false Bearer tok"
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, "|") != want {
		t.Fatalf("requests %q", got)
	}
}
