package clients

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/wsbin"
	"github.com/causeway/causeway/broker/wsproto"
)

// lastSequenceHeader is the handshake response header in which a server may
// report the highest sequence id it has stored under the producer name, so a
// named producer continues its numbering instead of being de-duplicated
// away. Without it, numbering starts after InitialSequenceID.
const lastSequenceHeader = wsproto.HeaderLastSequenceID

// Producer defaults and bounds.
const (
	defaultBatchMaxMessages = 1000
	defaultBatchMaxBytes    = 1 << 20
	// eagerFramesMax bounds the frames in flight while frames go out
	// without waiting (BatchMaxDelay 0): past it, queued messages wait for
	// an ack (or a full batch), as TCP's Nagle waits for one, so that under
	// load frames fill with the messages queued during a round trip.
	eagerFramesMax            = 4
	defaultMaxPendingMessages = 10000
	maxPendingMessagesLimit   = 1 << 20
	maxBatchBytesLimit        = 64 << 20
)

// ProducerOptions configures a producer.
type ProducerOptions struct {
	// Stream is a bare name (the client's tenant and fabric),
	// "tenant/fabric/stream" or "persistent://tenant/fabric/stream".
	Stream string
	// Name identifies the producer to the server, which de-duplicates on
	// (name, sequence id) and drops a message whose sequence id is not above
	// the highest it stored for the name. Empty: a unique name is generated.
	// A producer that reuses a name across restarts must continue its
	// sequence ids: the client does so on its own when the server reports
	// the name's last sequence id at connection (the X-Causeway-Last-Sequence-Id
	// header); otherwise set InitialSequenceID.
	Name string
	// InitialSequenceID is the last sequence id already published under
	// Name; the first message gets InitialSequenceID+1 (or more, see Name).
	InitialSequenceID int64
	// BatchMaxMessages bounds the messages in one batch frame (default 1000,
	// at most wsproto.MaxBatchMessages); 1 disables batching.
	BatchMaxMessages int
	// BatchMaxBytes bounds the encoded size of one batch frame (default
	// 1 MiB); a single larger message is sent alone.
	BatchMaxBytes int
	// BatchMaxDelay is how long a queued message may wait for company.
	// Zero (the default) does not wait: a frame goes out as soon as the
	// producer's writer is free and fewer than a few frames await their
	// acks, carrying every message queued meanwhile; past that, messages
	// wait for an ack or a full batch. Under load frames fill up by
	// themselves, and at a low rate a message does not sit behind a timer.
	// Send and Flush never wait for it.
	BatchMaxDelay time.Duration
	// MaxPendingMessages bounds messages queued or in flight (default
	// 10000); SendAsync blocks while it is reached.
	MaxPendingMessages int
}

func (o *ProducerOptions) setDefaults() error {
	if o.BatchMaxMessages == 0 {
		o.BatchMaxMessages = defaultBatchMaxMessages
	}
	if o.BatchMaxBytes == 0 {
		o.BatchMaxBytes = defaultBatchMaxBytes
	}
	if o.MaxPendingMessages == 0 {
		o.MaxPendingMessages = defaultMaxPendingMessages
	}
	switch {
	case o.BatchMaxMessages < 1 || o.BatchMaxMessages > wsproto.MaxBatchMessages:
		return fmt.Errorf("%w: BatchMaxMessages %d: want 1..%d", ErrInvalidArgument, o.BatchMaxMessages, wsproto.MaxBatchMessages)
	case o.BatchMaxBytes < 1 || o.BatchMaxBytes > maxBatchBytesLimit:
		return fmt.Errorf("%w: BatchMaxBytes %d: want 1..%d", ErrInvalidArgument, o.BatchMaxBytes, maxBatchBytesLimit)
	case o.BatchMaxDelay < 0:
		return fmt.Errorf("%w: BatchMaxDelay %v is negative", ErrInvalidArgument, o.BatchMaxDelay)
	case o.MaxPendingMessages < 1 || o.MaxPendingMessages > maxPendingMessagesLimit:
		return fmt.Errorf("%w: MaxPendingMessages %d: want 1..%d", ErrInvalidArgument, o.MaxPendingMessages, maxPendingMessagesLimit)
	case o.InitialSequenceID < 0:
		return fmt.Errorf("%w: InitialSequenceID %d is negative", ErrInvalidArgument, o.InitialSequenceID)
	}
	if o.Name == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		o.Name = "causeway-go-" + hex.EncodeToString(b[:])
	}
	if err := naming.Validate("producer", o.Name); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	return nil
}

// Producer publishes to one stream. Messages are queued, cut into batch
// frames by count, size and delay, and pipelined; the server's acks complete
// them in send order. After a dropped connection the producer reconnects
// and resends every message not yet acknowledged, with its sequence id, so
// delivery is at least once (exactly once where the server de-duplicates).
// It is safe for concurrent use.
type Producer struct {
	c      *Client
	opts   ProducerOptions
	stream naming.Stream
	op     string
	log    *zap.Logger

	mu       sync.Mutex
	box      *outbox
	flushReq bool          // send what is queued without waiting for BatchMaxDelay
	added    uint64        // messages accepted by add
	finished uint64        // messages whose callback has returned
	err      error         // terminal: ErrClosed or a refusal; set once
	changed  chan struct{} // closed and replaced when room, completions or err change

	rot    rotation      // where the connection stands in the client's base URLs (run's goroutine)
	wake   chan struct{} // capacity 1: the writer has something to look at
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the connection loop has ended
}

// CreateProducer connects a producer. It fails at once, without retrying,
// if the server refuses (e.g. ErrNotFound, ErrProducerBusy) or no node of
// the service URL can be reached; a refusal asking to try again (HTTP 5xx,
// 408, 429: e.g. a stream just created whose leader is being chosen) is
// retried with the reconnect backoff until ctx ends. ctx bounds the
// connection attempt.
func (c *Client) CreateProducer(ctx context.Context, o ProducerOptions) (*Producer, error) {
	if c.isClosed() {
		return nil, ErrClosed
	}
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	s, err := c.resolve(o.Stream)
	if err != nil {
		return nil, err
	}
	p := &Producer{
		c: c, opts: o, stream: s,
		op:      fmt.Sprintf("producer %s (%s)", s, o.Name),
		log:     c.log.With(zap.String("producer", o.Name), zap.Stringer("stream", s)),
		box:     newOutbox(o.InitialSequenceID, o.MaxPendingMessages),
		changed: make(chan struct{}),
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	p.box.binary = c.binary
	conn, rot, err := c.connect(ctx, p.op, p.url, ErrProducerBusy)
	if err != nil {
		return nil, err
	}
	p.rot = rot
	if v := conn.header.Get(lastSequenceHeader); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			p.box.resume(n)
		}
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	if err := c.track(p); err != nil {
		conn.close()
		p.cancel()
		return nil, err
	}
	p.log.Debug("producer connected")
	go p.run(conn)
	return p, nil
}

// url is the endpoint for the next connection, on node b;
// initialSequenceId tells the server the highest sequence id this producer
// knows to be stored.
func (p *Producer) url(b base) string {
	p.mu.Lock()
	last := p.box.lastAcked
	p.mu.Unlock()
	return producerURL(b.ws, p.stream, p.opts.Name, last, p.c.binary)
}

// Name is the producer name the server de-duplicates on.
func (p *Producer) Name() string { return p.opts.Name }

// Send publishes m and waits for the server's answer. If ctx ends first it
// returns ctx's error, and the message may still be published. A resent
// message the server knew as stored but whose id it no longer remembers
// completes with no error and the zero MessageID.
func (p *Producer) Send(ctx context.Context, m ProducerMessage) (wsproto.MessageID, error) {
	type result struct {
		id  wsproto.MessageID
		err error
	}
	ch := make(chan result, 1)
	err := p.enqueue(ctx, m, true, func(id wsproto.MessageID, err error) { ch <- result{id, err} })
	if err != nil {
		return wsproto.MessageID{}, err
	}
	select {
	case r := <-ch:
		return r.id, r.err
	case <-ctx.Done():
		return wsproto.MessageID{}, ctx.Err()
	}
}

// SendAsync queues m and returns; done (which may be nil) is called once
// with the message id or the error, in send order, from the producer's
// goroutine: it must not wait on this producer (Send, Flush, Close). While
// MaxPendingMessages are pending, SendAsync blocks until one completes.
// m is encoded before SendAsync returns, so its Payload and Properties may
// be reused at once.
func (p *Producer) SendAsync(m ProducerMessage, done func(wsproto.MessageID, error)) {
	if done == nil {
		done = func(wsproto.MessageID, error) {}
	}
	if err := p.enqueue(context.Background(), m, false, done); err != nil {
		done(wsproto.MessageID{}, err)
	}
}

// enqueue waits for room and adds m. After a terminal error it waits until
// every earlier callback has run, so callbacks stay in send order.
func (p *Producer) enqueue(ctx context.Context, m ProducerMessage, flush bool, done func(wsproto.MessageID, error)) error {
	p.mu.Lock()
	for p.err != nil || p.box.full() {
		if p.err != nil && p.finished >= p.added {
			err := p.err
			p.mu.Unlock()
			return err
		}
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		p.mu.Lock()
	}
	err := p.box.add(m, done)
	if err == nil {
		p.added++
		p.flushReq = p.flushReq || flush
	}
	p.mu.Unlock()
	if err != nil {
		return err
	}
	p.signal()
	return nil
}

// Flush sends what is queued without waiting for BatchMaxDelay, then waits
// until every message sent before the call has completed and its callback
// returned. Send errors go to the callbacks; Flush returns ctx's error if
// ctx ends first, or the producer's terminal error (ErrClosed, a refusal)
// if it has one.
func (p *Producer) Flush(ctx context.Context) error {
	p.mu.Lock()
	target := p.added
	p.flushReq = true
	p.mu.Unlock()
	p.signal()
	for {
		p.mu.Lock()
		if p.finished >= target {
			err := p.err
			p.mu.Unlock()
			return err
		}
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close disconnects. Messages not yet acknowledged complete with ErrClosed
// (they may or may not have been published); call Flush first to wait for
// them.
func (p *Producer) Close() error {
	p.cancel()
	<-p.done
	p.c.untrack(p)
	return nil
}

func (p *Producer) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// broadcastLocked wakes everyone waiting on p.changed; p.mu must be held.
func (p *Producer) broadcastLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// complete runs callbacks in order, then counts them finished.
func (p *Producer) complete(cs []completion) {
	if len(cs) == 0 {
		return
	}
	for _, c := range cs {
		c.done(c.id, c.err)
	}
	p.mu.Lock()
	p.finished += uint64(len(cs))
	p.broadcastLocked()
	p.mu.Unlock()
}

// run owns the connection: it serves one connection at a time and
// reconnects until the producer is closed or the server refuses for good.
func (p *Producer) run(conn *wsConn) {
	defer close(p.done)
	for {
		err := p.serve(conn)
		if p.ctx.Err() != nil {
			p.finish(ErrClosed)
			return
		}
		p.mu.Lock()
		p.box.requeue()
		p.flushReq = true // resend at once on the next connection
		p.mu.Unlock()
		if !retriable(err) {
			p.log.Error("producer connection failed", zap.Error(err))
			p.finish(fmt.Errorf("clients: %s: %w", p.op, err))
			return
		}
		p.log.Warn("producer connection lost, reconnecting", zap.Error(err))
		if conn, err = p.c.redial(p.ctx, p.op, &p.rot, p.url, ErrProducerBusy, p.log); err != nil {
			if !errors.Is(err, ErrClosed) {
				p.log.Error("producer reconnect refused", zap.Error(err))
			}
			p.finish(err)
			return
		}
	}
}

// finish sets the terminal error and fails every pending message.
func (p *Producer) finish(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
	}
	cs := p.box.failAll(p.err)
	p.broadcastLocked()
	p.mu.Unlock()
	p.complete(cs)
}

// serve writes and reads on one connection until either side fails or the
// producer closes; the reader has exited when it returns.
func (p *Producer) serve(conn *wsConn) error {
	stop := make(chan struct{})
	readErr := make(chan error, 1)
	go func() { readErr <- p.readAcks(conn) }()
	go conn.keepalive(stop, p.c.pingInterval)
	readerDone, err := p.writeLoop(conn, readErr)
	close(stop)
	if !readerDone {
		if errors.Is(err, ErrClosed) {
			// Closing: let acks in flight arrive until the server answers
			// the close frame.
			conn.startClose()
		} else {
			conn.close()
		}
		<-readErr
	}
	conn.close()
	return err
}

// writeLoop cuts and writes frames: at once when a batch is full or a flush
// is asked for, otherwise after BatchMaxDelay, or with BatchMaxDelay 0 as
// soon as fewer than eagerFramesMax frames are in flight.
func (p *Producer) writeLoop(conn *wsConn, readErr <-chan error) (readerDone bool, err error) {
	var (
		timer   *time.Timer
		timerC  <-chan time.Time
		overdue bool // the delay has run out for what is queued
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		p.mu.Lock()
		queued := len(p.box.queued) > 0
		var parts [][]byte // a frame, written without joining its parts
		eager := p.opts.BatchMaxDelay == 0 && p.box.eager()
		if queued && (overdue || eager || p.flushReq || p.box.batchReady(p.opts.BatchMaxMessages, p.opts.BatchMaxBytes)) {
			parts, _ = p.box.takeParts(p.opts.BatchMaxMessages, p.opts.BatchMaxBytes)
			if !p.c.binary {
				parts = jsonBatchParts(parts)
			}
			if len(p.box.queued) == 0 {
				p.flushReq, overdue = false, false
				if timer != nil {
					timer.Stop()
					timer, timerC = nil, nil
				}
			}
		}
		p.mu.Unlock()
		if parts != nil {
			typ := websocket.TextMessage
			if p.c.binary {
				typ = websocket.BinaryMessage
			}
			if err := conn.writeParts(typ, parts); err != nil {
				return false, err
			}
			continue
		}
		if queued && timerC == nil && p.opts.BatchMaxDelay > 0 {
			timer = time.NewTimer(p.opts.BatchMaxDelay)
			timerC = timer.C
		}
		select {
		case <-p.wake:
		case <-timerC:
			overdue, timerC = true, nil
		case err := <-readErr:
			return true, err
		case <-p.ctx.Done():
			return false, ErrClosed
		}
	}
}

// readAcks matches ack frames (JSON, or binary on a binary connection) to
// frames in flight and runs the callbacks.
func (p *Producer) readAcks(conn *wsConn) error {
	for {
		typ, data, err := conn.read()
		if err != nil {
			return err
		}
		var match func() ([]completion, error)
		if p.c.binary && typ == websocket.BinaryMessage {
			a, err := wsbin.DecodePublishAck(data)
			if err != nil {
				return fmt.Errorf("%w: publish ack: %w", ErrProtocol, err)
			}
			match = func() ([]completion, error) { return p.box.ackedBinary(&a) }
		} else {
			acks, err := decodeAcks(data)
			if err != nil {
				return err
			}
			match = func() ([]completion, error) { return p.box.acked(acks) }
		}
		p.mu.Lock()
		cs, err := match()
		if err == nil {
			p.broadcastLocked() // room for blocked senders
		}
		p.mu.Unlock()
		if err != nil {
			return err
		}
		p.complete(cs)
		p.signal() // a frame fewer in flight: the writer may send what waits
	}
}
