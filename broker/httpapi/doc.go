// Package httpapi owns Causeway's HTTP front end: stream and subscription
// admin following Macrometa GDN's REST paths (with an optional
// /_tenant/{tenant} prefix), /health, and /metrics (Prometheus, through an
// adapter around the broker's own metrics). Responses use ArangoDB's
// envelope: {"error":false,"code":200,"result":...} or
// {"error":true,"code":404,"errorNum":404,"errorMessage":"..."}.
package httpapi
