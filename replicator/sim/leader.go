package sim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/causeway/causeway/replicator"
)

// pub is one publish of a client, until it is acknowledged.
type pub struct {
	seqID int64
	body  string
}

// freshOp is an op published on a shell, not journaled yet.
type freshOp struct {
	oid uint64
	p   *producer
	pb  *pub
}

// waiter is a publish waiting for the high watermark to pass its offset.
type waiter struct {
	off uint64
	p   *producer
	pb  *pub
}

// heldOutput is what an Output asks to send, held until the journal is
// committed up to need (its end when the Output was computed).
type heldOutput struct {
	need uint64
	msgs []wanMsg
}

type wanMsg struct {
	to    int
	msg   []byte
	batch *replicator.Batch
	ack   *replicator.Ack
}

// deposed reports whether the shell runs on a node that is no longer (or
// not at the current epoch) the journal's leader.
func (sh *shell) deposed() bool {
	return sh.n != nil && sh.r.cl.primary() != sh
}

// stable is what the shell may report causally stable: the engine's Stable
// counts this region's delivered vector, which with a replicated journal
// holds ops not committed yet (a failover may cut them), so it is clamped
// to what the journal committed.
func (sh *shell) stable() replicator.Vector {
	v := sh.engine.Stable()
	if sh.n == nil {
		return v
	}
	durable := sh.n.log.counts(sh.n.lead.HighWatermark())
	for o, s := range v {
		if d := durable[o]; d < s {
			v[o] = d
			if d == 0 {
				delete(v, o)
			}
		}
	}
	return v
}

// startShell starts the region's engine on n, which just took up the
// journal's leadership, from n's own copy of the journal.
func (c *cluster) startShell(n *node) error {
	r, w := c.r, c.r.w
	sh, err := newShell(r, n)
	if err != nil {
		return err
	}
	for _, rc := range n.log.recs {
		switch rc.kind {
		case recJoinStart:
			sh.joinMark = true
		case recJoinEnd:
			sh.joinMark = false
		case recOp:
			if err := sh.load(rc); err != nil {
				return fmt.Errorf("%s: %w", sh.name(), err)
			}
		}
	}
	marked := sh.joinMark
	if err := sh.start(); err != nil {
		return fmt.Errorf("%s: start engine: %w", sh.name(), err)
	}
	if sh.joinMark && !marked {
		// The durable join marker goes into the journal before any op
		// recovered from the peers.
		if err := n.log.add(rec{kind: recJoinStart}, n.lead.Epoch()); err != nil {
			return err
		}
		n.lead.Appended(n.log.End())
	}
	if w.lost != nil && w.lost != r {
		if err := sh.engine.EvictRegion(w.lost.name); err != nil {
			return err
		}
	}
	n.sh = sh
	w.res.LeaderStarts++
	w.trace("%s/n%d leads the journal at epoch %d: engine from its log (end %d, hw %d) delivered %v joining %v",
		r.name, n.id, n.lead.Epoch(), n.log.End(), n.lead.HighWatermark(), sh.engine.Delivered(), sh.engine.Joining())
	// The other regions' connections to the region come up again (to
	// this node).
	for _, o := range w.regions {
		if o == r {
			continue
		}
		for _, s := range o.shells() {
			if err := s.engine.PeerUp(w.now, r.name); err != nil {
				return err
			}
		}
	}
	return nil
}

// load takes one journaled op of the node's log into a starting shell.
func (sh *shell) load(rc rec) error {
	if have := sh.count[rc.origin]; rc.seq != have+1 {
		return fmt.Errorf("log holds %s after %d of its ops: %w", rc.dot(), have, errCheck)
	}
	producer, seqID, err := parseBody(rc.body)
	if err != nil {
		return fmt.Errorf("log holds %s with body %q: %v: %w", rc.dot(), rc.body, err, errCheck)
	}
	if last, ok := sh.producerLast[producer]; ok && seqID <= last {
		return fmt.Errorf("log holds producer %s seq id %d after %d: %w", producer, seqID, last, errCheck)
	}
	sh.producerLast[producer] = seqID
	if rc.origin == sh.r.name {
		sh.dedup.Accept(producer, seqID)
	}
	sh.journals[rc.origin] = append(sh.journals[rc.origin], rc.entry())
	sh.count[rc.origin] = rc.seq
	sh.total++
	return nil
}

// commit extends what the region committed with n's log below its leader's
// high watermark, checking that no other leader committed anything else
// there; the region's own ops committed become the oracle's.
func (c *cluster) commit(n *node) error {
	w := c.r.w
	hw := n.lead.HighWatermark()
	if hw > n.log.End() {
		return fmt.Errorf("%s/n%d: high watermark %d past its log end %d: %w", c.r.name, n.id, hw, n.log.End(), errCheck)
	}
	for off := n.checked; off < hw && off < uint64(len(c.committed)); off++ {
		a, b := c.committed[off], n.log.entries[off]
		if a.Epoch != b.Epoch || string(a.Data) != string(b.Data) {
			return fmt.Errorf("%s/n%d: split brain: journal offset %d committed as %v (epoch %d) and as %v (epoch %d): %w",
				c.r.name, n.id, off, c.committedRecs[off].dot(), a.Epoch, n.log.recs[off].dot(), b.Epoch, errCheck)
		}
	}
	for off := uint64(len(c.committed)); off < hw; off++ {
		rc := n.log.recs[off]
		c.committed = append(c.committed, n.log.entries[off])
		c.committedRecs = append(c.committedRecs, rc)
		if rc.kind != recOp {
			continue
		}
		if have := c.committedCount[rc.origin]; rc.seq != have+1 {
			return fmt.Errorf("%s: committed %s after %d of its ops: %w", c.r.name, rc.dot(), have, errCheck)
		}
		c.committedCount[rc.origin] = rc.seq
		c.committedAt[rc.dot()] = int(off)
		if rc.origin != c.r.name || rc.oid == 0 {
			// An op of another region (or of this one, recovered after it
			// lost every disk): the oracle knows it, or it was in limbo
			// and exists after all.
			info := w.oracle[rc.dot()]
			if info == nil {
				if info = w.limbo[rc.dot()]; info == nil {
					return fmt.Errorf("%s: committed %s, an op no region committed: %w", c.r.name, rc.dot(), errCheck)
				}
				w.oracle[rc.dot()] = info
				delete(w.limbo, rc.dot())
				w.trace("%s commits %s from limbo", c.r.name, rc.dot())
			}
			if info.body != string(rc.body) {
				return fmt.Errorf("%s: committed %s with another body than its origin's: %w", c.r.name, rc.dot(), errCheck)
			}
			continue
		}
		info := w.tentative[rc.oid]
		if info == nil {
			return fmt.Errorf("%s: committed %s of an unknown publish: %w", c.r.name, rc.dot(), errCheck)
		}
		delete(w.tentative, rc.oid)
		if prev := w.oracle[rc.dot()]; prev != nil && prev != info {
			return fmt.Errorf("%s: dot %s committed for two ops (%s/%d and %s/%d): %w", c.r.name, rc.dot(),
				prev.producer, prev.seqID, info.producer, info.seqID, errCheck)
		}
		if _, lost := w.limbo[rc.dot()]; lost {
			// The op of a previous life that no region delivered is
			// superseded; a region that still delivers it took one op for
			// another.
			delete(w.limbo, rc.dot())
			w.trace("%s commits %s over an op of its previous life in limbo", c.r.name, rc.dot())
		}
		w.oracle[rc.dot()] = info
	}
	n.checked = max(n.checked, hw)
	return nil
}

// release commits what the shell's leader's high watermark covers, then
// acknowledges the publishes below it and sends the Outputs it covers,
// checking that nothing leaves the region above what it committed.
func (c *cluster) release(sh *shell) error {
	w := c.r.w
	n := sh.n
	if err := c.commit(n); err != nil {
		return err
	}
	hw := n.lead.HighWatermark()
	n.hw = max(n.hw, hw)
	keep := sh.waiters[:0]
	for _, wt := range sh.waiters {
		if wt.off >= hw {
			keep = append(keep, wt)
			continue
		}
		rc := n.log.recs[wt.off]
		if rc.kind != recOp || rc.origin != c.r.name || string(rc.body) != wt.pb.body {
			return fmt.Errorf("%s: publish %s/%d acknowledged at journal offset %d, which holds %s: %w",
				sh.name(), wt.p.name, wt.pb.seqID, wt.off, rc.dot(), errCheck)
		}
		i := slices.Index(wt.p.pending, wt.pb)
		if i < 0 {
			continue // the client went elsewhere: it never hears this answer
		}
		wt.p.pending = slices.Delete(wt.p.pending, i, i+1)
		w.acked[rc.dot()] = wt.pb.body
		w.res.AckedPublishes++
		w.trace("%s acknowledges %s (%s/%d) at journal offset %d (hw %d)", sh.name(), rc.dot(), wt.p.name, wt.pb.seqID, wt.off, hw)
	}
	sh.waiters = keep
	for len(sh.held) > 0 && sh.held[0].need <= hw {
		for _, m := range sh.held[0].msgs {
			if err := c.leave(sh, m); err != nil {
				return err
			}
		}
		sh.held = sh.held[1:]
	}
	return nil
}

// leave checks a message leaving the region and sends it.
func (c *cluster) leave(sh *shell, m wanMsg) error {
	if err := c.checkLeaving(sh, m); err != nil && !c.r.w.opts.bugUnchecked {
		return err
	}
	c.r.w.send(c.r.idx, m.to, m.msg)
	return nil
}

// checkLeaving: every op a batch carries and every count an ack advertises
// is committed in the region.
func (c *cluster) checkLeaving(sh *shell, m wanMsg) error {
	if b := m.batch; b != nil {
		for _, op := range b.Ops {
			d := replicator.Dot{Origin: b.Origin, Seq: op.Seq}
			off, ok := c.committedAt[d]
			if !ok || string(c.committedRecs[off].body) != string(op.Body) {
				return fmt.Errorf("%s: sends %s to %s above the region's high watermark: %w", sh.name(), d, b.To, errCheck)
			}
		}
	}
	if a := m.ack; a != nil {
		for _, e := range a.Delivered {
			if have := c.committedCount[e.Region]; e.Seq > have {
				return fmt.Errorf("%s: acks %s:%d to %s, the region committed %d: %w", sh.name(), e.Region, e.Seq, a.To, have, errCheck)
			}
		}
	}
	return nil
}

// hold encodes what an Output sends and holds it until the journal is
// committed up to its current end (what the Output was computed from).
func (sh *shell) hold(out replicator.Output) error {
	r := sh.r
	var msgs []wanMsg
	for _, s := range out.Sends {
		to := slices.Index(r.w.names, s.Peer)
		batches, err := sh.builder.Build(sh, s)
		if err != nil {
			return fmt.Errorf("%s: %w", sh.name(), err)
		}
		for i := range batches {
			msg, err := r.w.codec.AppendBatch(nil, batches[i])
			if err != nil {
				return fmt.Errorf("%s: %w", sh.name(), err)
			}
			msgs = append(msgs, wanMsg{to: to, msg: msg, batch: &batches[i]})
		}
	}
	for i := range out.Acks {
		a := out.Acks[i]
		msg, err := r.w.codec.AppendAck(nil, a)
		if err != nil {
			return fmt.Errorf("%s: %w", sh.name(), err)
		}
		msgs = append(msgs, wanMsg{to: slices.Index(r.w.names, a.To), msg: msg, ack: &a})
	}
	if o := r.w.opts; o.bugSendAboveHW || o.bugAckAboveHW {
		kept := msgs[:0]
		for _, m := range msgs {
			if (m.batch != nil && o.bugSendAboveHW) || (m.ack != nil && o.bugAckAboveHW) {
				if err := r.cl.leave(sh, m); err != nil {
					return err
				}
				continue
			}
			kept = append(kept, m)
		}
		msgs = kept
	}
	if len(msgs) > 0 {
		sh.held = append(sh.held, heldOutput{need: sh.n.log.End(), msgs: msgs})
		if len(sh.held) > maxHeldOutputs {
			sh.held = sh.held[1:]
			r.w.res.HeldDropped++
		}
	}
	// Appending may have moved the high watermark too.
	return r.cl.release(sh)
}

// journal appends a delivery to the leader's log.
func (sh *shell) journal(d replicator.Delivery, je replicator.JournalEntry, fresh freshOp, local bool) error {
	n := sh.n
	rc := rec{kind: recOp, origin: d.Origin, seq: d.Seq, meta: je.Meta, body: je.Body}
	if local {
		rc.oid = fresh.oid
	}
	if err := n.log.add(rc, n.lead.Epoch()); err != nil {
		return err
	}
	n.lead.Appended(n.log.End())
	if local {
		sh.waiters = append(sh.waiters, waiter{off: n.log.End() - 1, p: fresh.p, pb: fresh.pb})
	}
	return nil
}

// publishOnLeader has producer p publish its next message on this leader.
// A client that was connected elsewhere first sends again, in order and
// under the same ids, what was not acknowledged there: the dedup table
// (rebuilt from this node's log) refuses those the journal already holds,
// and the client waits for the high watermark to pass them.
func (sh *shell) publishOnLeader(p *producer) error {
	r := sh.r
	if sh.engine.Joining() {
		return nil // the client tries again later
	}
	if p.at != sh {
		retry := p.pending
		p.pending, p.at = nil, sh
		for _, pb := range retry {
			if err := sh.submit(p, pb, true); err != nil {
				return err
			}
		}
	}
	seqID := p.next
	p.next++
	pb := &pub{seqID: seqID, body: fmt.Sprintf("%s|%d|%s", p.name, seqID, strings.Repeat("x", r.w.rng.IntN(300)))}
	if err := sh.submit(p, pb, false); err != nil {
		return err
	}
	if r.w.rng.Float64() < r.w.retryRate && sh.dedup.Accept(p.name, seqID) {
		return fmt.Errorf("%s: dedup accepted retry of %s/%d: %w", sh.name(), p.name, seqID, errCheck)
	}
	return nil
}

func (sh *shell) submit(p *producer, pb *pub, retry bool) error {
	r, w := sh.r, sh.r.w
	if !sh.dedup.Accept(p.name, pb.seqID) {
		if !retry {
			return fmt.Errorf("%s: dedup refused fresh %s/%d: %w", sh.name(), p.name, pb.seqID, errCheck)
		}
		off, ok := sh.n.log.find(r.name, []byte(pb.body))
		if !ok {
			return fmt.Errorf("%s: dedup refused the retry of %s/%d, which the journal lacks: %w", sh.name(), p.name, pb.seqID, errCheck)
		}
		w.res.DedupedRetries++
		p.pending = append(p.pending, pb)
		sh.waiters = append(sh.waiters, waiter{off: off, p: p, pb: pb})
		return nil
	}
	deps := sh.count.Clone()
	delete(deps, r.name)
	d, err := sh.engine.Publish(w.now, []byte(pb.body))
	if err != nil {
		return fmt.Errorf("%s: publish: %w", sh.name(), err)
	}
	w.nextOID++
	w.tentative[w.nextOID] = &opInfo{deps: deps, producer: p.name, seqID: pb.seqID, body: pb.body}
	sh.fresh[d.Seq] = freshOp{oid: w.nextOID, p: p, pb: pb}
	p.pending = append(p.pending, pb)
	w.trace("%s publishes %s (%s/%d, retry %v) deps %v", sh.name(), d.Dot(), p.name, pb.seqID, retry, deps)
	return nil
}
