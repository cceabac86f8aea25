package clients

import (
	"fmt"
	"net/url"
	"strings"
)

// maxServiceURLs bounds the base URLs of one client (a region's nodes).
const maxServiceURLs = 64

// base is one node's base URL in its HTTP and WebSocket forms.
type base struct {
	http *url.URL // http(s)://host:port[/prefix]
	ws   *url.URL // ws(s)://host:port[/prefix]
}

// parseServiceURL parses a service URL: one base URL, or the base URLs of
// several nodes of a region separated by commas, as in Pulsar's multi-host
// service URL. Either every element is a full URL
// ("http://a:8080,http://b:8080") or the later ones leave out the scheme
// and take the first's ("http://a:8080,b:8080,c:8080"). Spaces around an
// element are ignored; an empty element, a base URL listed twice and more
// than maxServiceURLs elements are refused.
func parseServiceURL(raw string) ([]base, error) {
	parts := strings.Split(raw, ",")
	if len(parts) > maxServiceURLs {
		return nil, fmt.Errorf("%w: service URL: %d base URLs, at most %d", ErrInvalidArgument, len(parts), maxServiceURLs)
	}
	var scheme string
	bases := make([]base, 0, len(parts))
	seen := make(map[string]bool, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("%w: service URL %q: element %d is empty", ErrInvalidArgument, raw, i+1)
		}
		if i == 0 {
			if s, _, ok := strings.Cut(p, "://"); ok {
				scheme = s
			}
		} else if !strings.Contains(p, "://") {
			p = scheme + "://" + p
		}
		h, w, err := parseBaseURL(p)
		if err != nil {
			return nil, err
		}
		if seen[h.String()] {
			return nil, fmt.Errorf("%w: service URL %q: %s is listed twice", ErrInvalidArgument, raw, h)
		}
		seen[h.String()] = true
		bases = append(bases, base{http: h, ws: w})
	}
	return bases, nil
}

// rotation is where one connection stands in the client's base URLs: it
// starts at one of them and moves round robin, one step per failed or lost
// connection. Pure: the connection's loop owns it.
type rotation struct {
	n, at int
}

// newRotation starts at index start of n base URLs (n >= 1).
func newRotation(n, start int) rotation {
	if n < 1 {
		n = 1
	}
	if start < 0 || start >= n {
		start = 0
	}
	return rotation{n: n, at: start}
}

// current is the index of the base URL to connect to.
func (r *rotation) current() int { return r.at }

// advance moves to the next base URL and returns its index.
func (r *rotation) advance() int {
	r.at = (r.at + 1) % r.n
	return r.at
}

// ServiceURLs returns the HTTP base URLs a service URL lists (see New), in
// order, without a trailing slash; a bad service URL is an error wrapping
// ErrInvalidArgument. Tools that speak HTTP to a region's nodes themselves
// (causeway status) read a --url the way the client does.
func ServiceURLs(serviceURL string) ([]string, error) {
	bases, err := parseServiceURL(serviceURL)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(bases))
	for i, b := range bases {
		out[i] = b.http.String()
	}
	return out, nil
}
