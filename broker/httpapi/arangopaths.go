package httpapi

import (
	"net/url"
	"strings"

	"github.com/causeway/causeway/broker/naming"
)

// ArangoDB's drivers address a database as /_db/{database}/_api/... and the
// _system database also without a prefix (/_api/...). A fabric is the
// database: ServeHTTP rewrites those paths to the node's own
// /_fabric/{fabric}/_api/... before anything else sees the request (the
// auth gate, the routes of every front end), so each route answers at the
// three paths without being declared three times.

// systemFabricAPIs are the first segments after /_api/ that name an API
// of a fabric: a path without a prefix that starts with one of them is the
// _system fabric's. Every other /_api/ path (keys, tokens, tenants,
// replication, the region, snapshots) is the node's own and is not
// rewritten.
var systemFabricAPIs = map[string]bool{
	"collection": true, "document": true, "cursor": true, "index": true, "import": true,
	"explain": true, "simple": true, "kv": true, "restql": true, "database": true,
	"version": true, "transaction": true, "streams": true, "fabric": true,
}

// arangoPath returns the node's path for an ArangoDB-style path p and
// whether it rewrote it: /_db/{fabric}[/rest] becomes
// /_fabric/{fabric}[/rest] (but /_db/{fabric}/_open/... is the node's
// /_open/..., ArangoDB's login, which arangojs sends there), and /_api/{api}[/rest] with a fabric API
// becomes /_fabric/_system/_api/{api}[/rest]. Pure; it works on escaped
// paths (URL.RawPath) as well, since it never looks inside a segment but
// the API's name.
func arangoPath(p string) (string, bool) {
	if rest, ok := strings.CutPrefix(p, "/_db/"); ok {
		fabric, tail, _ := strings.Cut(rest, "/")
		if fabric == "" {
			return p, false
		}
		if strings.HasPrefix(tail, "_open/") {
			return "/" + tail, true // the login is the node's, whatever the database
		}
		return "/_fabric/" + rest, true
	}
	if rest, ok := strings.CutPrefix(p, "/_api/"); ok {
		api, _, _ := strings.Cut(rest, "/")
		if systemFabricAPIs[api] {
			return "/_fabric/" + naming.SystemFabric + "/_api/" + rest, true
		}
	}
	return p, false
}

// rewriteArangoPath applies arangoPath to a request's path (and its
// escaped form, when it has one).
func rewriteArangoPath(u *url.URL) {
	p, ok := arangoPath(u.Path)
	if !ok {
		return
	}
	u.Path = p
	if u.RawPath != "" {
		if raw, ok := arangoPath(u.RawPath); ok {
			u.RawPath = raw
		} else {
			u.RawPath = ""
		}
	}
}
