// Package leaderproxy forwards a request that reached a node of a region
// which does not lead the resource it names (a stream, a collection) to the
// node that does: the whole HTTP exchange, WebSocket upgrades included, so
// clients that know one node (or do not follow redirects, as Pulsar's
// WebSocket clients do not) reach the leader through it.
package leaderproxy

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"

	"go.uber.org/zap"
)

// Header marks a request one node proxied to another: the receiver serves
// it or refuses it, never proxies it again (two nodes' views of who leads
// may differ for a moment).
const Header = "X-Causeway-Proxied"

// Proxied reports whether r was proxied here by another node.
func Proxied(r *http.Request) bool { return r.Header.Get(Header) != "" }

// Serve forwards r to the node at base (its HTTP base URL). A failure to
// reach it is answered by fail (the caller's error format), with an error
// saying so.
func Serve(w http.ResponseWriter, r *http.Request, base string, log *zap.Logger, fail func(http.ResponseWriter, error)) {
	target, err := url.Parse(base)
	if err != nil || target.Host == "" {
		fail(w, fmt.Errorf("leaderproxy: leader address %q: not a URL", base))
		return
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = target.Host
			pr.Out.Header.Set(Header, "1")
			pr.SetXForwarded()
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			fail(w, fmt.Errorf("leaderproxy: forwarding to the leader at %s: %w", base, err))
		},
		ErrorLog: zap.NewStdLog(log),
	}
	proxy.ServeHTTP(w, r)
}
