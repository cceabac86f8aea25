package ws

import (
	"errors"
	"github.com/gorilla/websocket"
	"math"
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/wsproto"
)

// maxPendingFrames bounds the publish frames of one producer connection that
// are waiting for durability; past it the server stops reading the socket
// (TCP backpressure) until acks go out. The writer queue holds as many
// frames, so a storage callback never blocks on a slow client.
const maxPendingFrames = 4096

func (s *Server) serveProducer(w http.ResponseWriter, r *http.Request, ep wsproto.Endpoint) {
	initialSeq, err := intParam(r, "initialSequenceId", -1, -1, math.MaxInt64)
	if err != nil {
		refuse(w, "Invalid query params", err)
		return
	}
	binary, err := protocolParam(r)
	if err != nil {
		refuse(w, "Invalid query params", err)
		return
	}
	stream, err := s.node.StreamForUse(ep.Streams[0], ep.Global)
	if err != nil {
		refuse(w, "Failed to create producer", err)
		return
	}
	name := r.URL.Query().Get("producerName")
	key := handoffKey(ep.Streams[0].String(), name)
	var p *broker.Producer
	err = s.handoff.attach(r.Context(), key, func(err error) bool { return errors.Is(err, broker.ErrProducerBusy) }, func() (err error) {
		p, err = stream.AttachProducer(name, initialSeq)
		return err
	})
	if err != nil {
		refuse(w, "Failed to create producer", err)
		return
	}
	log := s.log.With(zap.String("stream", ep.Streams[0].String()), zap.String("producer", p.Name()))
	header := protocolHeader(http.Header{wsproto.HeaderLastSequenceID: []string{strconv.FormatInt(p.LastSequenceID(), 10)}}, binary)
	c, err := s.upgrade(w, r, header, maxPendingFrames+16, log)
	if err != nil {
		p.Close()
		return
	}
	maxMsg := s.node.Config().MaxMessageBytes
	c.ws.SetReadLimit(readLimit(maxMsg))
	h := &producerConn{c: c, p: p, maxMsg: maxMsg, maxBatch: s.node.Config().MaxBatchMessages, pending: make(chan struct{}, maxPendingFrames),
		metrics: s.node.Metrics(), binary: binary}
	go func() {
		// Another node of the region leads the stream now: the client
		// reconnects (and is proxied there).
		select {
		case <-p.Fenced():
			c.close(websocket.CloseServiceRestart, "the stream's leader moved to another node; reconnect")
		case <-c.done:
		}
	}()
	go func() {
		defer s.release(c)
		readLoop(c, h.handle)
		gone := s.handoff.leave(handoffKey(ep.Streams[0].String(), p.Name()))
		h.drain()
		p.Close()
		gone()
	}()
}

// maxCommandFrameBytes bounds a frame from a consumer or reader: an ack,
// nack, permit or seek command, or a binary frame of up to
// wsbin.MaxAcksPerFrame acks.
const maxCommandFrameBytes = 1 << 20

// readLimit bounds one frame: a maximal message in base64 inside JSON, or a
// batch frame (JSON or binary) of many smaller ones.
func readLimit(maxMsg int) int64 {
	return int64(max(maxMsg/3*4+64<<10, 16<<20))
}

type producerConn struct {
	c        *conn
	p        *broker.Producer
	maxMsg   int
	maxBatch int
	pending  chan struct{} // semaphore of frames awaiting durability
	metrics  *broker.Metrics

	// binary is set when the connection asked for causeway-binary-v1:
	// every frame is then a binary publish frame (binary_producer.go),
	// answered in order through acks.
	binary bool
	acks   ackOrder
}

func (h *producerConn) handle(typ int, data []byte) {
	if h.binary {
		h.handleBinary(typ, data)
		return
	}
	if wsproto.IsBatch(data) {
		h.handleBatch(data)
		return
	}
	d, err := wsproto.DecodeProducerMessage(data, h.maxMsg)
	if err != nil {
		h.reject(err)
		return
	}
	ctx := d.Frame.Context
	if !h.acquire() {
		return
	}
	h.p.PublishAsync([]broker.Message{toMessage(d)}, func(res []broker.PublishResult) {
		if !h.reconnectIfMoved(res) {
			h.c.send(outFrame{data: appendProducerAck(nil, ackFor(res[0], ctx))})
		}
		<-h.pending
	})
}

func (h *producerConn) handleBatch(data []byte) {
	msgs, errs, err := wsproto.DecodeProducerBatch(data, h.maxMsg, h.maxBatch)
	if err != nil {
		h.reject(err)
		return
	}
	valid := make([]broker.Message, 0, len(msgs))
	for i, m := range msgs {
		if errs[i] == nil {
			valid = append(valid, toMessage(m))
		} else {
			h.metrics.RejectedFrames.Add(1)
		}
	}
	if !h.acquire() {
		return
	}
	h.p.PublishAsync(valid, func(res []broker.PublishResult) {
		if h.reconnectIfMoved(res) {
			<-h.pending
			return
		}
		b := make([]byte, 0, 96*len(msgs))
		b = append(b, '[')
		j := 0
		for i, m := range msgs {
			if i > 0 {
				b = append(b, ',')
			}
			if errs[i] != nil {
				b = appendProducerAck(b, ackForError(errs[i], m.Frame.Context))
				continue
			}
			b = appendProducerAck(b, ackFor(res[j], m.Frame.Context))
			j++
		}
		b = append(b, ']')
		h.c.send(outFrame{data: b})
		<-h.pending
	})
}

// drain waits until every publish of the connection has completed (its
// callback has run), by taking every pending slot.
func (h *producerConn) drain() {
	for range cap(h.pending) {
		h.pending <- struct{}{}
	}
}

// acquire takes a pending slot; false means the connection is closing and
// the frame is dropped unacknowledged (the client re-sends it).
func (h *producerConn) acquire() bool {
	select {
	case h.pending <- struct{}{}:
		return true
	case <-h.c.closing:
		return false
	}
}

func (h *producerConn) reject(err error) {
	h.metrics.RejectedFrames.Add(1)
	h.c.send(outFrame{data: appendProducerAck(nil, ackForError(err, ""))})
}

func toMessage(d wsproto.DecodedPublish) broker.Message {
	m := broker.Message{
		Key:        d.Frame.Key,
		Properties: d.Frame.Properties,
		Payload:    d.Payload,
		EventTime:  d.EventTime,
		SequenceID: -1,
	}
	if d.Frame.SequenceID != nil {
		m.SequenceID = *d.Frame.SequenceID
	}
	return m
}

func ackFor(r broker.PublishResult, ctx string) wsproto.ProducerAck {
	if r.Err != nil {
		code := wsproto.ErrCodeUnknown
		if broker.HTTPStatus(r.Err) == http.StatusRequestEntityTooLarge {
			code = wsproto.ErrCodePayloadTooLarge
		}
		return wsproto.SendError(code, r.Err.Error(), ctx)
	}
	if r.Duplicate && !r.Known {
		return wsproto.ProducerAck{Result: "ok", Context: ctx, ErrorMsg: "duplicate of a message stored earlier"}
	}
	return wsproto.ProducerAck{Result: "ok", MessageID: wsproto.MessageID{Offset: r.Offset, Partition: -1}.Encode(), Context: ctx}
}

func ackForError(err error, ctx string) wsproto.ProducerAck {
	if pe, ok := err.(*wsproto.PublishError); ok {
		if pe.Context == "" {
			pe.Context = ctx
		}
		return pe.Ack()
	}
	return wsproto.SendError(wsproto.ErrCodeUnknown, err.Error(), ctx)
}

// reconnectIfMoved closes the connection, unacknowledged, when a publish
// met its stream's leader moving (broker.ErrLeaderMoved: the message may
// be stored; broker.ErrNotOwner: it is not): the client reconnects (to the
// new leader, through any node) and sends its unacknowledged messages again
// under the same sequence ids, which de-duplication answers. A send error
// would make it give up on a message that may be in the stream.
func (h *producerConn) reconnectIfMoved(res []broker.PublishResult) bool {
	for _, r := range res {
		if errors.Is(r.Err, broker.ErrLeaderMoved) || errors.Is(r.Err, broker.ErrNotOwner) {
			h.c.close(websocket.CloseServiceRestart, "the stream's leader moved to another node; reconnect and send again")
			return true
		}
	}
	return false
}
