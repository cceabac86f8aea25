package service

import (
	"encoding/json"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
)

// Change is one message of a collection's change feed: a document as it is
// after an applied change. The message key is the document key; properties
// repeat op, _rev and region.
type Change struct {
	Key string `json:"_key"`
	ID  string `json:"_id"`
	Rev string `json:"_rev"`
	// Op is insert, replace, update, delete or expire (the request's kind;
	// remote and replayed changes name their last op's kind).
	Op string `json:"op"`
	// Region is the origin region of the change's last op; Dot names that
	// op and HLC is its hybrid logical timestamp.
	Region string `json:"region"`
	Dot    string `json:"dot"`
	HLC    uint64 `json:"hlc"`
	// Deleted is set when the document no longer exists; Doc is then null.
	Deleted bool            `json:"deleted"`
	Doc     json.RawMessage `json:"doc"`
}

// changeMessage encodes one change event; seq is the op-log offset of its
// last op (the broker drops a re-sent sequence id).
func changeMessage(ch Change, seq uint64) broker.Message {
	if ch.Doc == nil {
		ch.Doc = json.RawMessage("null")
		ch.Deleted = true
	}
	payload, _ := json.Marshal(ch)
	return broker.Message{
		Key:        ch.Key,
		Payload:    payload,
		SequenceID: int64(seq),
		Properties: map[string]string{"op": ch.Op, "_rev": ch.Rev, "region": ch.Region},
	}
}

// publishChanges publishes the entry's change events; their callback
// records the op-log position the feed is complete to.
func (c *collection) publishChanges(e *entry, res []broker.PublishResult) {
	if c.chg == nil {
		// In a region of several nodes, the change feed is led by another
		// node for now: its position stays, and the collection reopens
		// (replaying the events from there) once one node leads both.
		c.pending.Done()
		return
	}
	msgs := make([]broker.Message, len(e.docs))
	for i, dw := range e.docs {
		op := &e.ops[dw.lastOp]
		msgs[i] = changeMessage(Change{
			Key: dw.key, ID: e.info.Name + "/" + dw.key, Rev: dw.rev, Op: dw.change,
			Region: op.Dot.Region, Dot: op.Dot.String(), HLC: op.HLC, Doc: dw.shown,
		}, res[dw.lastOp].Offset+e.info.ChangeSeqBase)
	}
	end := res[len(res)-1].Offset + 1
	c.chg.PublishAsync(msgs, func(res []broker.PublishResult) {
		defer c.pending.Done()
		for _, r := range res {
			if r.Err != nil {
				// The position stays behind, for good in this run (later
				// entries must not move it past this one): a restart
				// re-publishes from it, and the op log is kept from it.
				c.feedStuck.Store(true)
				c.log.Warn("change feed publish failed", zap.Error(r.Err))
				return
			}
		}
		if c.feedStuck.Load() {
			return
		}
		if err := c.svc.store.SetPosition(e.info.ID, end); err != nil {
			c.log.Warn("save change feed position", zap.Error(err))
		}
	})
}

// opChangeName names the change an op kind makes (replay and remote ops).
func opChangeName(kind string, exists bool) string {
	switch {
	case !exists:
		return "delete"
	case kind == "insert" || kind == "replace":
		return kind
	}
	return "update"
}
