// Package console owns the node's web console: the single-page
// application served at /console (its HTML, CSS and JavaScript modules,
// embedded in the binary) and the handler that serves it. The console
// holds no state and no privilege of its own: the browser calls the
// node's public HTTP and WebSocket API with the key or token the user
// logged in with, so it can do exactly what that credential can.
package console
