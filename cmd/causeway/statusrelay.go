package main

import "github.com/causeway/causeway/replicator/shell"

// route is what the status table says of the link from one region to
// another: how many of from's own ops the other region lacks, as best
// known, and through whom that is known.
type route struct {
	// lagOps: from's delivered count of its own ops minus the largest
	// count of them the other region is known to have delivered.
	lagOps uint64
	// via names the region whose view gave that count when it is not
	// from itself: acks are not relayed, so across a cut link from hears
	// nothing from the other region and its own count stops, while a
	// region relaying from's ops to it hears how far it got.
	via string
}

// routeOf computes the route from -> to over the statuses of every region
// (each a region's own view; all[i].Peers[j].Advertised is what region i
// last heard peer j had delivered). from must be in all.
func routeOf(all []shell.Status, from, to string) route {
	var own uint64
	var best uint64
	via := ""
	for _, st := range all {
		if st.Region == from {
			own = st.Delivered[from]
		}
	}
	for _, st := range all {
		if st.Region == to {
			continue
		}
		for _, p := range st.Peers {
			if p.Peer != to {
				continue
			}
			n := p.Advertised[from]
			if n > best || n == best && st.Region == from {
				best = n
				if st.Region == from {
					via = ""
				} else {
					via = st.Region
				}
			}
		}
	}
	if best >= own {
		return route{via: via}
	}
	return route{lagOps: own - best, via: via}
}
