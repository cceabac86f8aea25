package kafka

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
)

// writeTimeout bounds writing one response.
const writeTimeout = 30 * time.Second

// conn is one client connection: a reader goroutine decodes requests and
// starts their handlers; a writer goroutine answers them in request order
// (Kafka's rule) as each completes, so slow requests (a held fetch, a produce
// waiting for fsync) pipeline with the ones behind them.
type conn struct {
	s   *Server
	nc  net.Conn
	log *zap.Logger

	out    chan *slot // answers in request order; bounded by MaxInFlightRequests
	ctx    context.Context
	cancel context.CancelFunc

	// producers are this connection's broker producers, one per stream;
	// only the reader goroutine touches them, so each stream's publishes
	// keep their order.
	producers map[naming.Stream]connProducer

	// clientID is the client id of the request being dispatched.
	clientID string

	auth connAuth // SASL login (sasl.go)
}

// slot is one request's pending answer.
type slot struct {
	corr int32
	done chan struct{} // closed when resp is set
	resp kmsg.Response
	// closeAfter closes the connection once this answer is written.
	closeAfter bool
	// abandonable answers (held joins and syncs) are dropped when the
	// connection closes instead of waited for.
	abandonable bool
	// throttle is the answer's throttle time (throttle.go); set before
	// the slot is queued.
	throttle time.Duration
	// recycle are buffers of resp that go back to the server's fetch
	// buffers once resp is encoded (fetchbufs.go).
	recycle [][]byte
}

func newSlot(corr int32) *slot { return &slot{corr: corr, done: make(chan struct{})} }

// finish sets the answer; call it once.
func (sl *slot) finish(resp kmsg.Response) {
	sl.resp = resp
	close(sl.done)
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	return &conn{
		s:         s,
		nc:        nc,
		log:       s.log.With(zap.String("remote", nc.RemoteAddr().String())),
		out:       make(chan *slot, s.cfg.MaxInFlightRequests),
		ctx:       ctx,
		cancel:    cancel,
		producers: map[naming.Stream]connProducer{},
	}
}

// stopReading makes the reader stop after the request it is reading; the
// writer still answers what was read.
func (c *conn) stopReading() {
	_ = c.nc.SetReadDeadline(time.Now())
	c.cancel()
}

// cut closes the connection now, from any goroutine, without blocking:
// every read and write fails at once (nothing more is served), and the
// socket is closed on a goroutine of its own (a TLS close may wait to
// send its alert); serve cleans up.
func (c *conn) cut() {
	c.cancel()
	_ = c.nc.SetDeadline(time.Now())
	go func() { _ = c.nc.Close() }()
}

func (c *conn) serve() {
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	c.readLoop()
	close(c.out)
	<-writerDone
	c.cancel()
	_ = c.nc.Close()
	c.auth.close()
	for _, p := range c.producers {
		p.p.Close()
	}
}

func (c *conn) readLoop() {
	br := bufio.NewReaderSize(c.nc, 64<<10)
	for {
		_ = c.nc.SetReadDeadline(time.Now().Add(c.s.cfg.IdleTimeout))
		if c.ctx.Err() != nil {
			return
		}
		frame, err := readFrame(br, nil, c.s.cfg.MaxRequestBytes)
		if err != nil {
			switch {
			case errors.Is(err, ErrRequestTooLarge):
				c.s.limits.KafkaTooLarge.Add(1)
				c.log.Warn("closing connection on an oversized request", zap.Error(err))
			case !errors.Is(err, io.EOF) && c.ctx.Err() == nil:
				c.log.Info("closing connection", zap.Error(err))
			}
			return
		}
		req, err := decodeRequest(frame)
		if err != nil {
			c.log.Warn("closing connection on a bad request", zap.Error(err), zap.String("client", req.clientID))
			return
		}
		throttle := c.throttle()
		if sl := c.dispatch(req); sl != nil { // nil: an acks=0 produce, no answer
			sl.throttle = throttle
			select {
			case c.out <- sl:
			case <-c.ctx.Done():
				return
			}
			if sl.closeAfter {
				return
			}
		}
		if throttle > 0 && !c.mute(throttle) {
			return
		}
	}
}

func (c *conn) writeLoop() {
	bw := bufio.NewWriterSize(c.nc, 64<<10)
	var buf []byte
	failed := false
	for sl := range c.out {
		if sl.abandonable {
			select {
			case <-sl.done:
			case <-c.ctx.Done():
				failed = true // the answer will never be written: close after the rest
			}
		} else {
			<-sl.done
		}
		if failed {
			continue
		}
		setThrottle(sl.resp, sl.throttle)
		buf = encodeResponse(buf[:0], sl.corr, sl.resp)
		for _, b := range sl.recycle {
			c.s.fetchBufs.put(b)
		}
		sl.recycle, sl.resp = nil, nil
		_ = c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
		_, err := bw.Write(buf)
		if err == nil && len(c.out) == 0 {
			err = bw.Flush()
		}
		if err == nil && sl.closeAfter {
			err = bw.Flush()
			c.cancel()
			_ = c.nc.SetReadDeadline(time.Now())
		}
		if err != nil {
			c.log.Info("write failed, closing", zap.Error(err))
			failed = true
			c.cancel()
			_ = c.nc.Close()
		}
		if cap(buf) > 1<<20 {
			buf = nil
		}
	}
	if !failed {
		_ = bw.Flush()
	}
}

// dispatch starts the handler of req and returns its slot, or nil for a
// request that gets no answer.
func (c *conn) dispatch(req request) *slot {
	if sl, handled := c.guard(req); handled {
		return sl
	}
	sl := newSlot(req.correlationID)
	c.clientID = req.clientID
	if req.msg == nil { // ApiVersions of a version above ours
		sl.finish(c.apiVersionsUnsupported(req))
		return sl
	}
	switch m := req.msg.(type) {
	case *kmsg.ProduceRequest:
		if m.Acks == 0 {
			c.produce(m, nil)
			return nil
		}
		c.produce(m, sl)
	case *kmsg.FetchRequest:
		go c.fetch(m, sl)
	case *kmsg.ListOffsetsRequest:
		sl.finish(c.listOffsets(m))
	case *kmsg.MetadataRequest:
		sl.finish(c.metadata(m))
	case *kmsg.OffsetCommitRequest:
		sl.finish(c.offsetCommit(m))
	case *kmsg.OffsetFetchRequest:
		sl.finish(c.offsetFetch(m))
	case *kmsg.FindCoordinatorRequest:
		sl.finish(c.findCoordinator(m))
	case *kmsg.JoinGroupRequest:
		c.joinGroup(m, sl)
	case *kmsg.HeartbeatRequest:
		sl.finish(c.heartbeat(m))
	case *kmsg.LeaveGroupRequest:
		sl.finish(c.leaveGroup(m))
	case *kmsg.SyncGroupRequest:
		c.syncGroup(m, sl)
	case *kmsg.DescribeGroupsRequest:
		sl.finish(c.describeGroups(m))
	case *kmsg.ListGroupsRequest:
		sl.finish(c.listGroups(m))
	case *kmsg.ApiVersionsRequest:
		sl.finish(c.apiVersions(m))
	case *kmsg.CreateTopicsRequest:
		sl.finish(c.createTopics(m))
	case *kmsg.DeleteTopicsRequest:
		sl.finish(c.deleteTopics(m))
	case *kmsg.InitProducerIDRequest:
		sl.finish(c.initProducerID(m))
	case *kmsg.DescribeConfigsRequest:
		sl.finish(c.describeConfigs(m))
	case *kmsg.CreatePartitionsRequest:
		sl.finish(c.createPartitions(m))
	case *kmsg.DeleteGroupsRequest:
		sl.finish(c.deleteGroups(m))
	default:
		// decodeRequest admits only the keys above.
		c.log.Error("no handler", zap.Int16("key", req.key))
		sl.closeAfter = true
		sl.finish(req.msg.ResponseKind())
	}
	return sl
}

// connProducer is a producer with the stream it is attached to.
type connProducer struct {
	stream *broker.Stream
	p      *broker.Producer
}

// producer returns this connection's producer on stream s (a new one if
// the stream was deleted and created again since, or if this node stopped
// leading it and leads it again).
func (c *conn) producer(s *broker.Stream) (*broker.Producer, error) {
	if cp, ok := c.producers[s.Name()]; ok {
		if cp.stream == s && !fenced(cp.p) {
			return cp.p, nil
		}
		cp.p.Close()
		delete(c.producers, s.Name())
	}
	p, err := s.AttachProducer("", -1)
	if err != nil {
		return nil, err
	}
	c.producers[s.Name()] = connProducer{stream: s, p: p}
	return p, nil
}

// fenced reports whether p was fenced (its node stopped leading its
// stream in a region of several nodes).
func fenced(p *broker.Producer) bool {
	select {
	case <-p.Fenced():
		return true
	default:
		return false
	}
}
