// Package regionapi is the HTTP view of a node's region of many nodes
// (package region/meta): the admin endpoint GET /_api/region/state, which
// shows the region's nodes, its units (who owns what, at which epoch, and
// which replicas are in sync) and which node leads the metadata group; and
// the nodes' internal GET /_api/region/leader, signed with the region
// secret, through which a node asks its peers which of them leads the
// group.
//
// The region/meta handler already serves GET /_api/region (the region's
// state, for nodes, signed with the region secret) and POST
// /_api/region/join; this package takes the paths below them, so both
// keep working. View is pure: it turns a region.State into the answer.
package regionapi
