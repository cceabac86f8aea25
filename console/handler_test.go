package console

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string, hdr map[string]string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func TestHandlerServesThePageAndItsFiles(t *testing.T) {
	h := New()
	res := get(t, h, "GET", "/console/", nil)
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(body), `<script type="module" src="js/app.js">`) {
		t.Fatalf("GET /console/: %d %q", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("page content type %q", ct)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("no CSP: %q", csp)
	}
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag on the page")
	}
	if res := get(t, h, "GET", "/console/", map[string]string{"If-None-Match": etag}); res.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", res.StatusCode)
	}
	for _, p := range []string{"/console/js/app.js", "/console/style.css", "/console/js/streams.js"} {
		res := get(t, h, "GET", p, nil)
		if res.StatusCode != 200 {
			t.Errorf("GET %s: %d", p, res.StatusCode)
		}
		if p == "/console/js/app.js" && !strings.Contains(res.Header.Get("Content-Type"), "javascript") {
			t.Errorf("GET %s: content type %q (modules need a JavaScript type)", p, res.Header.Get("Content-Type"))
		}
	}
	if res := get(t, h, "HEAD", "/console/style.css", nil); res.StatusCode != 200 {
		t.Errorf("HEAD: %d", res.StatusCode)
	}
	if res := get(t, h, "GET", "/console", nil); res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/console/" {
		t.Errorf("GET /console: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// Bad requests get an error and nothing else: no listing, no file outside
// the console's, no other method.
func TestHandlerRefusesWhatIsNotAFile(t *testing.T) {
	h := New()
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/console/js/", 404},
		{"GET", "/console/js", 404},
		{"GET", "/console/nope.js", 404},
		{"GET", "/console/../handler.go", 404},
		{"GET", "/console/js/../index.html", 404},
		{"GET", "/console//index.html", 404},
		{"GET", "/console/index.html/", 404},
		{"GET", "/consolex", 404},
		{"GET", "/console/" + strings.Repeat("a", 300), 400},
		{"POST", "/console/", 405},
		{"DELETE", "/console/js/app.js", 405},
	} {
		if res := get(t, h, c.method, c.path, nil); res.StatusCode != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, res.StatusCode, c.want)
		}
	}
}

func TestWrapServesOnlyTheConsolePaths(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := Wrap(New(), next)
	if res := get(t, h, "GET", "/console/", nil); res.StatusCode != 200 {
		t.Errorf("console: %d", res.StatusCode)
	}
	for _, p := range []string{"/_api/key", "/consoles", "/health", "/_fabric/_system/_api/streams"} {
		if res := get(t, h, "GET", p, nil); res.StatusCode != http.StatusTeapot {
			t.Errorf("%s did not reach next: %d", p, res.StatusCode)
		}
	}
}

// The whole console, every file of it, stays far under the 1 MB first-load
// budget (the browser test measures what a load actually transfers).
func TestAssetsAreSmall(t *testing.T) {
	sub, _ := fs.Sub(assets, "assets")
	var total int64
	_ = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			info, _ := d.Info()
			total += info.Size()
		}
		return nil
	})
	if total == 0 || total > 512<<10 {
		t.Fatalf("assets total %d bytes, want (0, 512 KiB]", total)
	}
	t.Logf("console assets: %d bytes", total)
}
