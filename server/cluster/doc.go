// Package cluster gives the broker its region of several nodes
// (broker.Cluster): the region's persistent streams are units of the
// region's metadata (region/meta), each replicated by log shipping
// (region/ship). It maps a stream to its unit ("stream:{tenant}/{fabric}/
// {name}", described by the stream's JSON description), tells the broker
// which node leads each stream and hands it this node's replica while it
// leads.
package cluster
