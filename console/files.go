package console

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"time"
)

// hashFiles computes the files' strong validators, by name (a hash of the
// content: embedded files carry no modification time).
func hashFiles(sub fs.FS) map[string]string {
	m := map[string]string{}
	_ = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return nil
		}
		sum := sha256.Sum256(b)
		m[p] = `"` + hex.EncodeToString(sum[:12]) + `"`
		return nil
	})
	return m
}

// serveIndex serves index.html as the page itself.
func serveIndex(sub fs.FS, w http.ResponseWriter, r *http.Request) {
	f, err := sub.Open("index.html")
	if err != nil {
		http.Error(w, "console: page missing", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	rs, ok := f.(interface {
		Read([]byte) (int, error)
		Seek(int64, int) (int64, error)
	})
	if !ok {
		http.Error(w, "console: page not seekable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	http.ServeContent(w, r, "index.html", time.Time{}, rs)
}
