package region

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// AuthHeader carries a request's (or an answer's) signature between the
// nodes of a region.
const AuthHeader = "X-Causeway-Region-Auth"

// Sign authenticates a message between the region's nodes: HMAC-SHA256 with
// the region secret over method, path and body, hex encoded.
func Sign(secret, method, path string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(method + " " + path + "\n"))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// SignatureValid reports whether sig is the signature of the message.
func SignatureValid(secret, sig, method, path string, body []byte) bool {
	return hmac.Equal([]byte(sig), []byte(Sign(secret, method, path, body)))
}
