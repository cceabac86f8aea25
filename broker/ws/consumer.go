package ws

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/wsbin"
	"github.com/causeway/causeway/broker/wsproto"
	"github.com/causeway/causeway/subscription"
)

const (
	defaultReceiverQueue = 1000
	maxReceiverQueue     = 50000
)

// consumerParams parses Pulsar's consumer query parameters.
func consumerParams(r *http.Request) (subscription.ConsumerSpec, bool, string, error) {
	q := r.URL.Query()
	spec := subscription.ConsumerSpec{Name: q.Get("consumerName"), Type: subscription.Exclusive, Initial: subscription.Latest}
	if v := q.Get("subscriptionType"); v != "" {
		t, err := subscription.ParseType(v)
		if err != nil {
			return spec, false, "", fmt.Errorf("%w: subscriptionType: %v", broker.ErrBadRequest, err)
		}
		spec.Type = t
	}
	switch v := strings.ToLower(q.Get("subscriptionInitialPosition")); v {
	case "", "latest":
	case "earliest":
		spec.Initial = subscription.Earliest
	default:
		return spec, false, "", fmt.Errorf("%w: subscriptionInitialPosition=%q: want Earliest or Latest", broker.ErrBadRequest, v)
	}
	queue, err := intParam(r, "receiverQueueSize", defaultReceiverQueue, 1, maxReceiverQueue)
	if err != nil {
		return spec, false, "", err
	}
	spec.ReceiverQueue = int(queue)
	prio, err := intParam(r, "priorityLevel", 0, 0, math.MaxInt32)
	if err != nil {
		return spec, false, "", err
	}
	spec.Priority = int(prio)
	ackTimeout, err := intParam(r, "ackTimeoutMillis", 0, 0, int64(24*time.Hour/time.Millisecond))
	if err != nil {
		return spec, false, "", err
	}
	spec.AckTimeout = time.Duration(ackTimeout) * time.Millisecond
	nackDelay, err := intParam(r, "negativeAckRedeliveryDelay", 0, 0, int64(24*time.Hour/time.Millisecond))
	if err != nil {
		return spec, false, "", err
	}
	spec.NackDelay = time.Duration(nackDelay) * time.Millisecond
	maxRedeliver, err := intParam(r, "maxRedeliverCount", 0, 0, 1000)
	if err != nil {
		return spec, false, "", err
	}
	spec.MaxRedeliverCount = int(maxRedeliver)
	pull, err := boolParam(r, "pullMode")
	if err != nil {
		return spec, false, "", err
	}
	spec.PullMode = pull
	if spec.Name != "" {
		if err := naming.Validate("consumer", spec.Name); err != nil {
			return spec, false, "", err
		}
	}
	dlq := q.Get("deadLetterTopic")
	if dlq != "" {
		if full, err := naming.ParseStream(dlq); err == nil {
			dlq = full.Name
		} else if err := naming.Validate("deadLetterTopic", dlq); err != nil {
			return spec, false, "", err
		}
	}
	return spec, pull, dlq, nil
}

func (s *Server) serveConsumer(w http.ResponseWriter, r *http.Request, ep wsproto.Endpoint) {
	spec, pull, dlq, err := consumerParams(r)
	if err != nil {
		refuse(w, "Invalid query params", err)
		return
	}
	binary, err := protocolParam(r)
	if err != nil {
		refuse(w, "Invalid query params", err)
		return
	}
	consumers := make([]*subscription.Consumer, 0, len(ep.Streams))
	closeAll := func() {
		for _, c := range consumers {
			c.Close()
		}
	}
	streams := make([]*broker.Stream, 0, len(ep.Streams))
	for _, name := range ep.Streams {
		st, err := s.node.StreamForUse(name, ep.Global)
		if err != nil {
			closeAll()
			refuse(w, "Failed to subscribe", err)
			return
		}
		c, err := st.Subscribe(broker.SubscribeOptions{Subscription: ep.Subscription, Consumer: spec, DeadLetterStream: dlq})
		if err != nil {
			closeAll()
			refuse(w, "Failed to subscribe", err)
			return
		}
		consumers = append(consumers, c)
		streams = append(streams, st)
	}
	log := s.log.With(zap.String("subscription", ep.Subscription), zap.String("stream", ep.Streams[0].String()))
	c, err := s.upgrade(w, r, protocolHeader(nil, binary), spec.ReceiverQueue*len(consumers)+64, log)
	if err != nil {
		closeAll()
		return
	}
	h := &consumerConn{s: s, c: c, consumers: consumers, streams: streams, pull: pull, multi: len(ep.Streams) > 1,
		subscription: ep.Subscription, log: log, inflight: make([]map[uint64]struct{}, len(consumers)), binary: binary}
	for i := range h.inflight {
		h.inflight[i] = map[uint64]struct{}{}
	}
	for i := range consumers {
		if binary {
			go h.forwardBinary(i)
		} else {
			go h.forward(i)
		}
	}
	go func() {
		defer s.release(c)
		readLoop(c, h.handle)
		closeAll()
	}()
}

type consumerConn struct {
	s            *Server
	c            *conn
	consumers    []*subscription.Consumer
	streams      []*broker.Stream
	pull         bool
	multi        bool
	subscription string
	log          *zap.Logger
	// binary is set when the connection asked for causeway-binary-v1:
	// messages go out many per binary frame and binary frames are acks
	// and permits (binary_consumer.go); text frames are still Pulsar's JSON.
	binary bool

	// inflight holds, per stream, the offsets pushed to the client and not
	// yet acked or nacked. In push mode a permit returns to the subscription
	// when the client acks or nacks a message, as Pulsar's WebSocket proxy
	// does, so at most receiverQueueSize messages wait in the client.
	mu       sync.Mutex
	inflight []map[uint64]struct{}
}

// delivered records a pushed offset; a redelivery of an offset still in
// flight (ack timeout) gives the earlier delivery's permit back.
func (h *consumerConn) delivered(i int, off uint64) {
	if h.pull {
		return
	}
	h.mu.Lock()
	_, again := h.inflight[i][off]
	h.inflight[i][off] = struct{}{}
	h.mu.Unlock()
	if again {
		h.consumers[i].AddPermits(1)
	}
}

// settled returns permits for offsets the client acked or nacked: one
// offset, or with cumulative every offset up to and including off.
func (h *consumerConn) settled(i int, off uint64, cumulative bool) {
	if h.pull {
		return
	}
	n := 0
	h.mu.Lock()
	if cumulative {
		for o := range h.inflight[i] {
			if o <= off {
				delete(h.inflight[i], o)
				n++
			}
		}
	} else if _, ok := h.inflight[i][off]; ok {
		delete(h.inflight[i], off)
		n = 1
	}
	h.mu.Unlock()
	if n > 0 {
		h.consumers[i].AddPermits(n)
	}
}

// forward moves deliveries of consumer i to the socket writer.
func (h *consumerConn) forward(i int) {
	sc := h.consumers[i]
	topic := ""
	if h.multi {
		topic = h.streams[i].Name().String()
	}
	metrics := h.s.node.Metrics()
	for {
		select {
		case d, ok := <-sc.Messages():
			if !ok {
				h.c.close(wsproto.CloseConsumerClosed, "consumer closed by the server")
				return
			}
			id := wsproto.MessageID{Stream: uint64(i), Offset: d.Record.Offset, Partition: -1}
			frame := appendConsumerMessage(make([]byte, 0, len(d.Record.Payload)*4/3+256), &d.Record, id, d.RedeliveryCount, topic)
			metrics.ObserveDelivery(len(d.Record.Payload))
			h.delivered(i, d.Record.Offset)
			if !h.c.push(outFrame{data: frame}) {
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

func (h *consumerConn) handle(typ int, data []byte) {
	if h.binary && typ == websocket.BinaryMessage {
		h.handleBinary(data)
		return
	}
	cmd, id, err := wsproto.DecodeConsumerCommand(data)
	if err != nil {
		h.fail(err.Error(), cmd.MessageID)
		return
	}
	switch cmd.Type {
	case wsproto.CmdAck, wsproto.CmdCumulativeAck, wsproto.CmdNegativeAck:
		kind := wsbin.AckIndividual
		switch cmd.Type {
		case wsproto.CmdCumulativeAck:
			kind = wsbin.AckCumulative
		case wsproto.CmdNegativeAck:
			kind = wsbin.Nack
		}
		if err := h.settle(kind, id); err != nil {
			h.fail(err.Error(), cmd.MessageID)
		}
	case wsproto.CmdPermit:
		if !h.pull {
			h.fail("permit frames are only accepted in pull mode (pullMode=true)", "")
			return
		}
		for _, sc := range h.consumers {
			sc.AddPermits(cmd.PermitMessages)
		}
	case wsproto.CmdIsEndOfTopic:
		h.c.send(outFrame{data: []byte(`{"endOfTopic":false}`)})
	case wsproto.CmdUnsubscribe:
		for _, sc := range h.consumers {
			sc.Close()
		}
		var errs []error
		for _, st := range h.streams {
			if err := st.DeleteSubscription(h.subscription, false); err != nil {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			h.fail("unsubscribe: "+err.Error(), "")
			return
		}
		h.c.close(wsproto.CloseNormal, "unsubscribed")
	}
}

func (h *consumerConn) fail(msg, id string) {
	h.s.node.Metrics().RejectedFrames.Add(1)
	h.c.send(outFrame{data: errorFrame(msg, id)})
}

// settle applies an ack, cumulative ack or nack of message id, whichever
// protocol carried it, and gives the permits back.
func (h *consumerConn) settle(kind wsbin.AckKind, id wsproto.MessageID) error {
	if id.Stream >= uint64(len(h.consumers)) {
		return fmt.Errorf("message id %s names stream %d; this consumer has %d", id, id.Stream, len(h.consumers))
	}
	sc := h.consumers[id.Stream]
	var err error
	switch kind {
	case wsbin.AckIndividual:
		err = sc.Ack(id.Offset)
	case wsbin.AckCumulative:
		err = sc.AckCumulative(id.Offset)
	default:
		err = sc.Nack(id.Offset)
	}
	if err != nil {
		return err
	}
	h.settled(int(id.Stream), id.Offset, kind == wsbin.AckCumulative)
	return nil
}
