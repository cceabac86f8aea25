package broker

import (
	"github.com/cockroachdb/pebble/v2"
	pvfs "github.com/cockroachdb/pebble/v2/vfs"

	"github.com/causeway/causeway/broker/vfs"
	"github.com/causeway/causeway/internal/pebblekv"
)

// nodeFS is the file system of the node's segment logs (and replication
// journals): the disk, through cfg.DiskFaults when a test set it.
func nodeFS(cfg Config) vfs.FS {
	if cfg.DiskFaults != nil {
		return vfs.NewFaulty(vfs.OS(), cfg.DiskFaults)
	}
	return vfs.OS()
}

// FS is the file system the node writes its logs through.
func (n *Node) FS() vfs.FS { return n.fs }

// PebbleOptions is the template of every Pebble store of the node (the
// collections and SPOT open theirs with it): the disk, through
// cfg.DiskFaults when a test set it.
func (n *Node) PebbleOptions() *pebble.Options { return pebbleOptions(n.cfg) }

func pebbleOptions(cfg Config) *pebble.Options {
	o := &pebble.Options{}
	if cfg.DiskFaults != nil {
		o.FS = pebblekv.FaultFS(pvfs.Default, cfg.DiskFaults)
	}
	return o
}

// StoreHealth is the state of the node's metadata store (registry,
// cursors, producer state, API keys): whether it accepts writes, and why
// not.
func (n *Node) StoreHealth() pebblekv.Health { return n.meta.Health() }
