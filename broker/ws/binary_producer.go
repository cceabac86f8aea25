package ws

import (
	"errors"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/wsbin"
	"github.com/causeway/causeway/broker/wsproto"
)

// handleBinary publishes one binary publish frame through the same producer
// as JSON frames (sequence ids, de-duplication, the payload and batch
// limits) and answers it with one binary publish ack. A frame that does not
// decode, or is past a frame limit, is refused as a whole and nothing of it
// is stored; a message past a message limit is refused alone. A text frame
// is refused too: mixing JSON publishes in would break the ack order.
func (h *producerConn) handleBinary(typ int, data []byte) {
	if !h.acquire() {
		return
	}
	ticket := h.acks.take()
	if typ != websocket.BinaryMessage {
		h.metrics.RejectedFrames.Add(1)
		h.acks.done(h, ticket, wsbin.AppendPublishRefusal(nil, 0, wsproto.ErrCodeDeserialize,
			"a "+wsbin.Protocol+" producer sends binary publish frames, not text frames"))
		return
	}
	f, err := wsbin.DecodePublish(data, wsbin.PublishLimits{MaxPayloadBytes: h.maxMsg, MaxMessages: h.maxBatch})
	if err != nil {
		h.metrics.RejectedFrames.Add(1)
		code := wsproto.ErrCodeDeserialize
		if errors.Is(err, wsbin.ErrTooLarge) {
			code = wsproto.ErrCodePayloadTooLarge
		}
		h.acks.done(h, ticket, wsbin.AppendPublishRefusal(nil, f.Context, code, err.Error()))
		return
	}
	valid := make([]broker.Message, 0, len(f.Messages))
	for i := range f.Messages {
		if f.Errs[i] != nil {
			h.metrics.RejectedFrames.Add(1)
			continue
		}
		m := &f.Messages[i]
		valid = append(valid, broker.Message{Key: m.Key, Properties: m.Properties, Payload: m.Payload,
			EventTime: m.EventTime, SequenceID: m.SequenceID})
	}
	h.p.PublishAsync(valid, func(res []broker.PublishResult) {
		if h.reconnectIfMoved(res) {
			h.acks.done(h, ticket, nil) // no ack: the client sends them again
			return
		}
		results := make([]wsbin.PublishResult, len(f.Messages))
		j := 0
		for i := range results {
			if err := f.Errs[i]; err != nil {
				results[i] = wsbin.PublishResult{Status: wsbin.Refused, Code: wsproto.ErrCodeUnknown, Error: err.Error()}
				if pe, ok := err.(*wsproto.PublishError); ok {
					results[i].Code, results[i].Error = pe.Code, pe.Msg
				}
				continue
			}
			results[i] = binaryResult(res[j])
			j++
		}
		h.acks.done(h, ticket, wsbin.AppendPublishAck(make([]byte, 0, 32), f.Context, results))
	})
}

// binaryResult is the binary form of one publish outcome (the JSON form is
// ackFor).
func binaryResult(r broker.PublishResult) wsbin.PublishResult {
	switch {
	case r.Err != nil:
		code := wsproto.ErrCodeUnknown
		if broker.HTTPStatus(r.Err) == http.StatusRequestEntityTooLarge {
			code = wsproto.ErrCodePayloadTooLarge
		}
		return wsbin.PublishResult{Status: wsbin.Refused, Code: code, Error: r.Err.Error()}
	case r.Duplicate && !r.Known:
		return wsbin.PublishResult{Status: wsbin.DuplicateForgotten}
	case r.Duplicate:
		return wsbin.PublishResult{Status: wsbin.Duplicate, Offset: r.Offset}
	}
	return wsbin.PublishResult{Status: wsbin.Stored, Offset: r.Offset}
}

// ackOrder sends binary publish acks in the order their frames arrived. A
// frame refused at once, or holding only duplicates, completes before
// earlier frames are durable; its ack waits for theirs, so the client can
// match acks to frames by order. Each ticket holds a pending slot
// (producerConn.pending) until its ack is queued, which bounds waiting
// acks to maxPendingFrames.
type ackOrder struct {
	mu    sync.Mutex
	next  uint64            // the next ticket to hand out (reader goroutine only)
	head  uint64            // the next ticket whose ack goes out
	ready map[uint64][]byte // completed acks waiting for earlier tickets
}

// take hands out the next ticket, in frame order.
func (o *ackOrder) take() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.next
	o.next++
	return t
}

// done records ticket t's ack and sends every ack now due.
func (o *ackOrder) done(h *producerConn, t uint64, ack []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if t != o.head {
		if o.ready == nil {
			o.ready = make(map[uint64][]byte)
		}
		o.ready[t] = ack
		return
	}
	for {
		if ack != nil {
			h.c.send(outFrame{data: ack, binary: true})
		}
		<-h.pending
		o.head++
		next, ok := o.ready[o.head]
		if !ok {
			return
		}
		delete(o.ready, o.head)
		ack = next
	}
}
