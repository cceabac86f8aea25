package console

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// Prefix is the path the console is served under.
const Prefix = "/console"

//go:embed assets
var assets embed.FS

// maxPathBytes bounds the request paths the handler looks up.
const maxPathBytes = 256

// Handler serves the console's files: GET or HEAD /console (redirected
// to /console/), /console/ (the page) and /console/{file}. Files carry
// a validator (the build's content hash), so a reload revalidates
// instead of downloading again. It needs no credential: the files are
// public, and every request the page makes to the API carries the
// user's own.
type Handler struct {
	files http.Handler
	sub   fs.FS
	etags map[string]string // by file name: a hash of its content
}

// New builds the handler over the embedded files.
func New() *Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil { // assets is embedded above: it always exists
		panic("console: embedded assets missing: " + err.Error())
	}
	return &Handler{files: http.FileServerFS(sub), sub: sub, etags: hashFiles(sub)}
}

// ServeHTTP serves one file of the console.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "console: method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if len(p) > maxPathBytes {
		http.Error(w, "console: path too long", http.StatusBadRequest)
		return
	}
	if p == Prefix {
		http.Redirect(w, r, Prefix+"/", http.StatusMovedPermanently)
		return
	}
	name, ok := strings.CutPrefix(p, Prefix+"/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if name == "" {
		name = "index.html"
	}
	// No directory listings, no dot segments: only the files themselves.
	if clean := path.Clean(name); clean != name || strings.HasSuffix(name, "/") || !fs.ValidPath(name) {
		http.NotFound(w, r)
		return
	}
	if st, err := fs.Stat(h.sub, name); err != nil || st.IsDir() {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-cache") // revalidate: a new binary serves new files
	if etag, ok := h.etags[name]; ok {
		hd.Set("ETag", etag)
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + name
	if name == "index.html" {
		// FileServer redirects /index.html to ./; serve the file itself.
		serveIndex(h.sub, w, r2)
		return
	}
	h.files.ServeHTTP(w, r2)
}

// contentSecurityPolicy lets the page load only its own files and talk
// only to its own node (HTTP and WebSocket): nothing from a CDN, no
// inline script.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// Wrap serves the console's paths with h and every other path with next.
// It sits in front of the API's request gate: the console's files are
// public, the API it calls is not.
func Wrap(h http.Handler, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == Prefix || strings.HasPrefix(r.URL.Path, Prefix+"/") {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
