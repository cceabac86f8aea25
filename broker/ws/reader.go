package ws

import (
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/broker/wsproto"
	"github.com/causeway/causeway/subscription"
)

// readerBatchBytes bounds one read from storage for a reader.
const readerBatchBytes = 4 << 20

func (s *Server) serveReader(w http.ResponseWriter, r *http.Request, ep wsproto.Endpoint) {
	queue, err := intParam(r, "receiverQueueSize", defaultReceiverQueue, 1, maxReceiverQueue)
	if err != nil {
		refuse(w, "Invalid query params", err)
		return
	}
	pull, err := boolParam(r, "pullMode")
	if err != nil {
		refuse(w, "Invalid query params", err)
		return
	}
	binary, err := protocolParam(r)
	if err != nil {
		refuse(w, "Invalid query params", err)
		return
	}
	// The start position is parsed before the stream is used (and maybe
	// created), so a bad one changes nothing.
	startAt := r.URL.Query().Get("messageId")
	var startID wsproto.MessageID
	if startAt != "" && startAt != "latest" && startAt != "earliest" {
		if startID, err = wsproto.ParseMessageID(startAt); err != nil {
			refuse(w, "Invalid query params", fmt.Errorf("%w: messageId: %v", broker.ErrBadRequest, err))
			return
		}
	}
	st, err := s.node.StreamForUse(ep.Streams[0], ep.Global)
	if err != nil {
		refuse(w, "Failed to create reader", err)
		return
	}
	src := st.Source()
	var from uint64
	switch startAt {
	case "", "latest":
		from = src.EndOffset()
	case "earliest":
		from = src.StartOffset()
	default:
		// Like Pulsar's reader, start after the given message.
		from = startID.Offset + 1
	}
	log := s.log.With(zap.String("stream", ep.Streams[0].String()), zap.String("role", "reader"))
	c, err := s.upgrade(w, r, protocolHeader(nil, binary), int(queue)+64, log)
	if err != nil {
		return
	}
	h := &readerConn{s: s, c: c, src: src, next: from, pull: pull, binary: binary, wake: make(chan struct{}, 1)}
	if !pull {
		h.permits = int(queue)
	}
	go h.pump()
	go func() {
		defer s.release(c)
		readLoop(c, h.handle)
	}()
}

// readerConn streams a log to one client without server-side state beyond
// its position. Permits come from receiverQueueSize and are refilled by the
// client's acks (Pulsar's reader flow control) or permit frames (pull mode).
type readerConn struct {
	s    *Server
	c    *conn
	src  subscription.Source
	pull bool
	// binary: causeway-binary-v1 (many messages per frame, binary acks and
	// permits; binary_consumer.go).
	binary bool

	mu      sync.Mutex
	permits int
	next    uint64
	wake    chan struct{}
}

func (h *readerConn) addPermits(n int) {
	h.mu.Lock()
	h.permits += n
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *readerConn) pump() {
	metrics := h.s.node.Metrics()
	for {
		h.mu.Lock()
		permits, next := h.permits, h.next
		h.mu.Unlock()
		changed := h.src.Changed()
		if permits == 0 || next >= h.src.EndOffset() {
			select {
			case <-h.wake:
			case <-changed:
			case <-h.c.closing:
				return
			}
			continue
		}
		recs, err := h.src.Read(next, permits, readerBatchBytes)
		if errors.Is(err, segment.ErrOffsetOutOfRange) {
			// Retention removed what the reader was about to read: skip to
			// the oldest message still stored.
			h.mu.Lock()
			h.next = h.src.StartOffset()
			h.mu.Unlock()
			continue
		}
		if err != nil {
			h.c.close(wsproto.CloseInternal, "read failed: "+err.Error())
			return
		}
		if !h.push(recs, metrics) {
			return
		}
		if len(recs) > 0 {
			h.mu.Lock()
			h.permits -= len(recs)
			h.next = recs[len(recs)-1].Offset + 1
			h.mu.Unlock()
		}
	}
}

// push sends records to the client: one JSON frame each, or binary frames
// of many. It returns false once the connection is closing.
func (h *readerConn) push(recs []segment.Record, metrics *broker.Metrics) bool {
	if h.binary {
		return h.pushBinary(recs, metrics)
	}
	for i := range recs {
		rec := &recs[i]
		frame := appendConsumerMessage(make([]byte, 0, len(rec.Payload)*4/3+256), rec,
			wsproto.MessageID{Offset: rec.Offset, Partition: -1}, 0, "")
		metrics.ObserveDelivery(len(rec.Payload))
		if !h.c.push(outFrame{data: frame}) {
			return false
		}
	}
	return true
}

func (h *readerConn) handle(typ int, data []byte) {
	if h.binary && typ == websocket.BinaryMessage {
		h.handleBinary(data)
		return
	}
	cmd, _, err := wsproto.DecodeConsumerCommand(data)
	if err != nil {
		h.s.node.Metrics().RejectedFrames.Add(1)
		h.c.send(outFrame{data: errorFrame(err.Error(), cmd.MessageID)})
		return
	}
	switch cmd.Type {
	case wsproto.CmdAck:
		if !h.pull {
			h.addPermits(1)
		}
	case wsproto.CmdPermit:
		h.addPermits(cmd.PermitMessages)
	case wsproto.CmdIsEndOfTopic:
		h.c.send(outFrame{data: []byte(`{"endOfTopic":false}`)})
	default:
		h.c.send(outFrame{data: errorFrame("readers accept acks, permits and isEndOfTopic only, not "+cmd.Type, cmd.MessageID)})
	}
}
