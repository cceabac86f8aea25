package ws

import (
	"fmt"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/broker/wsbin"
	"github.com/causeway/causeway/broker/wsproto"
	"github.com/causeway/causeway/subscription"
)

// Bounds of one binary messages frame pushed to a consumer or a reader. A
// single message larger than maxPushBytes goes alone.
const (
	maxPushMessages = 1000
	maxPushBytes    = 1 << 20
	// maxErrorFramesPerFrame bounds the error frames one binary command
	// frame can cause; later failures are summed up in one more.
	maxErrorFramesPerFrame = 8
)

// pushFrame gathers messages into one binary messages frame.
type pushFrame struct {
	msgs  []wsbin.Message
	bytes int
	props int
}

// fits reports whether m can join the frame (an empty frame takes anything).
func (p *pushFrame) fits(m *wsbin.Message) bool {
	return len(p.msgs) == 0 || len(p.msgs) < maxPushMessages && p.bytes+wsbin.MessageBytes(m) <= maxPushBytes &&
		p.props+len(m.Properties) <= wsbin.MaxPropertiesPerFrame
}

func (p *pushFrame) add(m wsbin.Message) {
	p.msgs = append(p.msgs, m)
	p.bytes += wsbin.MessageBytes(&m)
	p.props += len(m.Properties)
}

// take encodes the frame and empties it.
func (p *pushFrame) take() []byte {
	b := wsbin.AppendMessagesHeader(make([]byte, 0, p.bytes+8), len(p.msgs))
	for i := range p.msgs {
		b = wsbin.AppendMessage(b, &p.msgs[i])
	}
	clear(p.msgs) // drop references to payloads
	p.msgs, p.bytes, p.props = p.msgs[:0], 0, 0
	return b
}

func binaryMessage(rec *segment.Record, stream uint64, redeliveries int) wsbin.Message {
	return wsbin.Message{
		ID:          wsproto.MessageID{Stream: stream, Offset: rec.Offset, Partition: -1},
		PublishTime: rec.PublishTime, EventTime: rec.EventTime, RedeliveryCount: redeliveries,
		Key: rec.Key, Properties: broker.UserProperties(rec.Properties), Payload: rec.Payload,
	}
}

// forwardBinary moves deliveries of consumer i to the socket writer, as
// forward does, but gathers the deliveries already waiting into one binary
// frame. Flow control is the JSON push's: the subscription delivers only
// within the consumer's permits, and each message's permit comes back when
// the client acks or nacks it.
func (h *consumerConn) forwardBinary(i int) {
	sc := h.consumers[i]
	metrics := h.s.node.Metrics()
	var f pushFrame
	add := func(d *subscription.Delivery) bool {
		m := binaryMessage(&d.Record, uint64(i), d.RedeliveryCount)
		if !f.fits(&m) && !h.c.push(outFrame{data: f.take(), binary: true}) {
			return false
		}
		metrics.ObserveDelivery(len(m.Payload))
		h.delivered(i, m.ID.Offset)
		f.add(m)
		return true
	}
	for {
		select {
		case d, ok := <-sc.Messages():
			if !ok {
				h.c.close(wsproto.CloseConsumerClosed, "consumer closed by the server")
				return
			}
			if !add(&d) {
				return
			}
		more:
			for {
				select {
				case d, ok := <-sc.Messages():
					if !ok {
						break more // reported on the next turn
					}
					if !add(&d) {
						return
					}
				default:
					break more
				}
			}
			if !h.c.push(outFrame{data: f.take(), binary: true}) {
				return
			}
		case <-sc.Done():
			h.c.close(wsproto.CloseConsumerClosed, "subscription closed")
			return
		case <-h.c.closing:
			return
		}
	}
}

// handleBinary applies a binary command frame: acks (individual,
// cumulative, negative; many per frame) or a permit frame (pull mode).
// Failures are answered with binary error frames naming the message.
func (h *consumerConn) handleBinary(data []byte) {
	var errs binaryErrors
	defer errs.flush(h.c, h.s.node.Metrics())
	typ, err := wsbin.TypeOf(data)
	if err != nil {
		errs.add(err.Error(), nil)
		return
	}
	switch typ {
	case wsbin.TypeAcks:
		acks, err := wsbin.DecodeAcks(data)
		if err != nil {
			errs.add(err.Error(), nil)
			return
		}
		for _, a := range acks {
			h.applyAck(a, &errs)
		}
	case wsbin.TypePermit:
		n, err := wsbin.DecodePermit(data)
		switch {
		case err != nil:
			errs.add(err.Error(), nil)
		case !h.pull:
			errs.add("permit frames are only accepted in pull mode (pullMode=true)", nil)
		default:
			for _, sc := range h.consumers {
				sc.AddPermits(n)
			}
		}
	default:
		errs.add(fmt.Sprintf("a consumer sends acks and permit frames, not %s frames", typ), nil)
	}
}

func (h *consumerConn) applyAck(a wsbin.Ack, errs *binaryErrors) {
	if err := h.settle(a.Kind, a.ID); err != nil {
		id := a.ID
		errs.add(err.Error(), &id)
	}
}

// binaryErrors collects the failures of one binary command frame: the first
// maxErrorFramesPerFrame go out as they are, the rest as one count.
type binaryErrors struct {
	frames [][]byte
	more   int
}

func (e *binaryErrors) add(msg string, id *wsproto.MessageID) {
	if len(e.frames) < maxErrorFramesPerFrame {
		e.frames = append(e.frames, wsbin.AppendError(nil, id, msg))
		return
	}
	e.more++
}

// flush sends the collected error frames and counts the failures.
func (e *binaryErrors) flush(c *conn, metrics *broker.Metrics) {
	if len(e.frames) == 0 {
		return
	}
	metrics.RejectedFrames.Add(uint64(len(e.frames) + e.more))
	for _, f := range e.frames {
		c.send(outFrame{data: f, binary: true})
	}
	if e.more > 0 {
		c.send(outFrame{data: wsbin.AppendError(nil, nil, fmt.Sprintf("and %d more commands of the same frame failed", e.more)), binary: true})
	}
}

// pushBinary sends records to a reader in binary frames of many messages.
func (h *readerConn) pushBinary(recs []segment.Record, metrics *broker.Metrics) bool {
	var f pushFrame
	for i := range recs {
		m := binaryMessage(&recs[i], 0, 0)
		if !f.fits(&m) && !h.c.push(outFrame{data: f.take(), binary: true}) {
			return false
		}
		metrics.ObserveDelivery(len(m.Payload))
		f.add(m)
	}
	return len(f.msgs) == 0 || h.c.push(outFrame{data: f.take(), binary: true})
}

// handleBinary applies a reader's binary command frame: acks (each gives a
// permit back, as a JSON ack does) or a permit frame.
func (h *readerConn) handleBinary(data []byte) {
	var errs binaryErrors
	defer errs.flush(h.c, h.s.node.Metrics())
	typ, err := wsbin.TypeOf(data)
	if err != nil {
		errs.add(err.Error(), nil)
		return
	}
	switch typ {
	case wsbin.TypeAcks:
		acks, err := wsbin.DecodeAcks(data)
		if err != nil {
			errs.add(err.Error(), nil)
			return
		}
		n := 0
		for _, a := range acks {
			if a.Kind != wsbin.AckIndividual {
				id := a.ID
				errs.add("readers accept acks, permits and isEndOfTopic only, not a "+a.Kind.String(), &id)
				continue
			}
			n++
		}
		if !h.pull && n > 0 {
			h.addPermits(n)
		}
	case wsbin.TypePermit:
		n, err := wsbin.DecodePermit(data)
		if err != nil {
			errs.add(err.Error(), nil)
			return
		}
		h.addPermits(n)
	default:
		errs.add(fmt.Sprintf("a reader sends acks and permit frames, not %s frames", typ), nil)
	}
}
