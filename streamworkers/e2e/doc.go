// Package e2e tests stream workers end to end: real nodes of several
// regions started in process (internal/testfabric), workers defined over
// HTTP, their inputs published and their outputs read back through the
// nodes.
package e2e
