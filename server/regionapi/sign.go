package regionapi

import (
	"net/http"

	"github.com/causeway/causeway/region"
)

// sign authenticates a request between the region's nodes with the region
// secret (region.Sign, as region/meta signs its join and state requests).
func sign(secret, method, path string, body []byte) string {
	return region.Sign(secret, method, path, body)
}

// signed reports whether r (whose body is body) carries the signature of
// the region secret.
func signed(secret string, r *http.Request, body []byte) bool {
	return region.SignatureValid(secret, r.Header.Get(region.AuthHeader), r.Method, r.URL.Path, body)
}
