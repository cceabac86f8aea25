package clients

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/wsbin"
	"github.com/causeway/causeway/broker/wsproto"
)

// delivery is a message in the receive queue, tagged with the connection
// that delivered it.
type delivery struct {
	msg   *Message
	epoch uint64
}

// receiver is the connection shell shared by consumers and readers: it
// reads pushed messages into a queue bounded by queueSize (a full queue
// stops the reads, so TCP pushes back on the server), grants permits in pull
// mode, and re-establishes the connection after a drop. Messages queued from
// a connection that dropped are discarded, since the server delivers them
// again on the next one.
type receiver struct {
	c         *Client
	op        string
	log       *zap.Logger
	url       func(base) string // the endpoint on one node
	busy      error             // what a 409 means here
	streams   []string          // full names, indexed like message ids' stream index
	queueSize int
	pull      bool
	queue     chan delivery // capacity queueSize

	mu    sync.Mutex
	rot   rotation // where the connection stands in the client's base URLs (run's goroutine)
	conn  *wsConn  // nil while reconnecting
	epoch uint64   // generation of conn; bumped when it drops
	taken int      // pull mode: messages taken since the last permit frame
	err   error    // terminal: ErrClosed or a refusal

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed after err is set and the loop has ended
}

func newReceiver(c *Client, op string, log *zap.Logger, url func(base) string, busy error, streams []string, queueSize int, pull bool) *receiver {
	return &receiver{
		c: c, op: op, log: log, url: url, busy: busy, streams: streams,
		queueSize: queueSize, pull: pull,
		queue: make(chan delivery, queueSize),
		done:  make(chan struct{}),
	}
}

// start makes the first connection (no retry) and starts the loop.
func (r *receiver) start(ctx context.Context, owner closer) error {
	conn, rot, err := r.c.connect(ctx, r.op, r.url, r.busy)
	if err != nil {
		return err
	}
	r.rot = rot
	r.ctx, r.cancel = context.WithCancel(context.Background())
	if err := r.c.track(owner); err != nil {
		conn.close()
		r.cancel()
		return err
	}
	r.conn, r.epoch = conn, 1
	r.log.Debug("connected")
	go r.run(conn)
	return nil
}

func (r *receiver) run(conn *wsConn) {
	defer close(r.done)
	for {
		err := r.serve(conn)
		r.mu.Lock()
		r.conn = nil
		r.epoch++
		r.taken = 0
		r.mu.Unlock()
		r.drain()
		if r.ctx.Err() != nil {
			r.finish(ErrClosed)
			return
		}
		if !retriable(err) {
			r.log.Error("connection failed", zap.Error(err))
			r.finish(fmt.Errorf("clients: %s: %w", r.op, err))
			return
		}
		r.log.Warn("connection lost, reconnecting", zap.Error(err))
		if conn, err = r.c.redial(r.ctx, r.op, &r.rot, r.url, r.busy, r.log); err != nil {
			if !errors.Is(err, ErrClosed) {
				r.log.Error("reconnect refused", zap.Error(err))
			}
			r.finish(err)
			return
		}
		r.mu.Lock()
		r.conn = conn
		r.mu.Unlock()
	}
}

func (r *receiver) finish(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
}

// drain drops what the last connection queued.
func (r *receiver) drain() {
	for {
		select {
		case <-r.queue:
		default:
			return
		}
	}
}

// serve reads one connection until it fails or the receiver closes. On
// close it reads on, discarding, until the server answers the close frame,
// so acks written just before reach the server.
func (r *receiver) serve(conn *wsConn) error {
	stop := make(chan struct{})
	defer func() {
		close(stop)
		conn.close()
	}()
	go conn.keepalive(stop, r.c.pingInterval)
	go func() {
		select {
		case <-r.ctx.Done():
			conn.startClose()
		case <-stop:
		}
	}()
	r.mu.Lock()
	epoch := r.epoch
	r.mu.Unlock()
	if r.pull {
		if err := r.permit(conn, r.queueSize); err != nil {
			return err
		}
	}
	for {
		typ, data, err := conn.read()
		if err != nil {
			if r.ctx.Err() != nil {
				return ErrClosed
			}
			return err
		}
		if r.ctx.Err() != nil {
			continue // closing: drain
		}
		if r.c.binary && typ == websocket.BinaryMessage {
			if err := r.binaryFrame(data, epoch); err != nil {
				return err
			}
			continue
		}
		m, err := decodeMessage(data, r.streams)
		if err != nil {
			// Not acked: the server redelivers it (or dead-letters it).
			r.log.Error("dropping malformed message", zap.Error(err))
			r.took(epoch)
			continue
		}
		select {
		case r.queue <- delivery{msg: m, epoch: epoch}:
		case <-r.ctx.Done(): // closing: drain
		}
	}
}

// took counts a message taken from connection epoch and, in pull mode,
// grants the server permits once half the queue has been taken.
func (r *receiver) took(epoch uint64) {
	if !r.pull {
		return
	}
	r.mu.Lock()
	if epoch != r.epoch || r.conn == nil {
		r.mu.Unlock()
		return
	}
	r.taken++
	n, conn := 0, r.conn
	if r.taken >= max(1, r.queueSize/2) {
		n, r.taken = r.taken, 0
	}
	r.mu.Unlock()
	if n > 0 {
		if err := r.permit(conn, n); err != nil {
			r.log.Debug("permit not sent", zap.Error(err)) // the next connection grants a full queue
		}
	}
}

// permit grants the server n more messages (pull mode).
func (r *receiver) permit(conn *wsConn, n int) error {
	if r.c.binary {
		return conn.writeBinary(wsbin.AppendPermit(nil, n))
	}
	return conn.write(encodeCommand(wsproto.ConsumerCommand{Type: wsproto.CmdPermit, PermitMessages: n}))
}

// binaryFrame queues the messages of a binary frame (or logs the server's
// error frame). A frame that does not decode is a protocol error: the
// connection is dropped and the server redelivers what it had pushed.
func (r *receiver) binaryFrame(data []byte, epoch uint64) error {
	typ, err := wsbin.TypeOf(data)
	if err == nil && typ == wsbin.TypeError {
		e, err := wsbin.DecodeError(data)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrProtocol, err)
		}
		if e.HasID {
			r.log.Warn("the server refused a command", zap.Stringer("message", e.ID), zap.String("error", e.Error))
		} else {
			r.log.Warn("the server refused a command", zap.String("error", e.Error))
		}
		return nil
	}
	msgs, err := wsbin.DecodeMessages(data)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	for i := range msgs {
		select {
		case r.queue <- delivery{msg: messageFromBinary(&msgs[i], r.streams), epoch: epoch}:
		case <-r.ctx.Done(): // closing: drain
			return nil
		}
	}
	return nil
}

// next returns the next message of the current connection.
func (r *receiver) next(ctx context.Context) (*Message, error) {
	for {
		select {
		case d := <-r.queue:
			r.mu.Lock()
			stale := d.epoch != r.epoch
			r.mu.Unlock()
			if stale {
				continue
			}
			r.took(d.epoch)
			return d.msg, nil
		case <-r.done:
			r.mu.Lock()
			err := r.err
			r.mu.Unlock()
			return nil, err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// current returns the connection commands go to.
func (r *receiver) current() (*wsConn, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.err != nil:
		return nil, r.err
	case r.conn == nil:
		return nil, ErrNotConnected
	}
	return r.conn, nil
}

// send writes a JSON command on the current connection and waits for the
// write; what names it in errors.
func (r *receiver) send(what string, cmd wsproto.ConsumerCommand) error {
	conn, err := r.current()
	if err != nil {
		return err
	}
	if err := conn.write(encodeCommand(cmd)); err != nil {
		return fmt.Errorf("clients: %s: %s: %w", r.op, what, err)
	}
	return nil
}

// ack queues an ack, cumulative ack or nack of m on the current connection:
// written asynchronously and grouped, as Pulsar's clients group acks (many
// per frame on a binary connection). what names the command in errors.
func (r *receiver) ack(what string, kind wsbin.AckKind, m *Message) error {
	conn, err := r.current()
	if err != nil {
		return err
	}
	if r.c.binary {
		conn.queueAck(wsbin.Ack{Kind: kind, ID: m.ID})
		return nil
	}
	cmd := wsproto.ConsumerCommand{MessageID: m.RawID}
	switch kind {
	case wsbin.AckCumulative:
		cmd.Type = wsproto.CmdCumulativeAck
	case wsbin.Nack:
		cmd.Type = wsproto.CmdNegativeAck
	}
	if err := conn.writeAsync(encodeCommand(cmd)); err != nil {
		return fmt.Errorf("clients: %s: %s %s: %w", r.op, what, m.ID, err)
	}
	return nil
}

// close ends the loop and waits for it.
func (r *receiver) close() {
	r.cancel()
	<-r.done
}
