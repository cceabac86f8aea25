package regionapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
)

// authHeader carries a request's signature with the region secret.
const authHeader = "X-Causeway-Region-Auth"

// sign authenticates a request between the region's nodes: HMAC-SHA256
// with the region secret over method, path and body (region/meta signs
// its join and state requests the same way).
func sign(secret, method, path string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(method + " " + path + "\n"))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// signed reports whether r (whose body is body) carries the signature of
// the region secret.
func signed(secret string, r *http.Request, body []byte) bool {
	want := sign(secret, r.Method, r.URL.Path, body)
	return hmac.Equal([]byte(r.Header.Get(authHeader)), []byte(want))
}
