package collections

// Compact drops what no future op can need. stable must be causally stable:
// every op applied to this document from now on has a context that covers
// it (the meet of what every region has delivered, as the replicator
// computes it). Compact changes neither the view, the conflicts, the
// revision nor the expiry, and replicas that compacted at different stable
// vectors hold identical states once they compact at the same one.
//
// It folds stable increments of an attribute into one, drops stable object
// markers that a newer one makes redundant (or folds them into one), keeps
// only the best of the stable expiry writes, and forgets the stable part of
// the applied vector. From then on the caller must ignore ops whose dot
// stable covers (their duplicates can no longer be recognised by the
// state). It returns true when the document is gone entirely: deleted,
// holding nothing, with every op applied to it stable; the caller then
// deletes the state.
func (d *Doc) Compact(stable Vector) (gone bool) {
	d.root.compact(stable)
	d.expiry = compactExpiry(d.expiry, stable)
	// Stable ops are no longer told apart as duplicates here (the caller
	// ignores what stable covers), so replicas that applied the same ops
	// hold the same vector whether or not they collected an earlier life.
	kept := d.applied[:0]
	for _, e := range d.applied {
		if e.Seq > stable.Get(e.Region) {
			kept = append(kept, e)
		}
	}
	d.applied = kept
	return d.root.empty() && len(d.expiry) == 0 && len(d.applied) == 0
}

func (n *node) compact(stable Vector) {
	n.markers = compactMarkers(n.markers, stable)
	n.incs.compact(stable)
	for _, c := range n.kids {
		c.n.compact(stable)
	}
}

// compactMarkers: every future op observed the stable markers, so whatever
// removes one removes all of them. They only matter while no unstable marker
// keeps the node an object, and then one stands for all.
func compactMarkers(markers []Dot, stable Vector) []Dot {
	unstable := markers[:0]
	hadStable := false
	for _, m := range markers {
		if stable.Covers(m) {
			hadStable = true
		} else {
			unstable = append(unstable, m)
		}
	}
	if len(unstable) == 0 && hadStable {
		return append(unstable, stableDot)
	}
	return unstable
}

// compactExpiry keeps the best stable expiry write (the others can never win
// again), and drops it too when it says "no expiry" and is alone.
func compactExpiry(entries []expiryEntry, stable Vector) []expiryEntry {
	best := -1
	for i, e := range entries {
		if stable.Covers(e.dot) && (best < 0 || beats(e.hlc, e.dot, entries[best].hlc, entries[best].dot)) {
			best = i
		}
	}
	if best < 0 {
		return entries
	}
	kept := make([]expiryEntry, 0, len(entries))
	for i, e := range entries {
		if i == best || !stable.Covers(e.dot) {
			kept = append(kept, e)
		}
	}
	if len(kept) == 1 && kept[0].at == 0 {
		return nil
	}
	return kept
}
