package clients

import (
	"context"
	"fmt"
	"sync"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/wsbin"
	"github.com/causeway/causeway/broker/wsproto"
)

// Reader start positions (ReaderOptions.StartMessageID may also hold an
// encoded message id).
const (
	StartEarliest = "earliest"
	StartLatest   = "latest"
)

// ReaderOptions configures a reader.
type ReaderOptions struct {
	Stream string
	// StartMessageID is "earliest", "latest" (the default) or an encoded
	// message id (Message.RawID); the reader starts after that message.
	StartMessageID    string
	ReceiverQueueSize int // default 1000, at most 50000
}

// Reader reads a stream without a subscription. It acknowledges each
// message as Next returns it (the server's flow control), and after a
// dropped connection resumes after the last message it returned. It is safe
// for concurrent use.
type Reader struct {
	r *receiver

	mu      sync.Mutex
	start   string            // where the next connection starts
	last    wsproto.MessageID // the last message returned
	hasLast bool
}

// CreateReader opens a reader. It fails at once, without retrying, if the
// server refuses or no node of the service URL can be reached; a refusal
// asking to try again (HTTP 5xx, 408, 429) is retried with the reconnect
// backoff until ctx ends. ctx bounds the connection attempt.
func (c *Client) CreateReader(ctx context.Context, o ReaderOptions) (*Reader, error) {
	if c.isClosed() {
		return nil, ErrClosed
	}
	if o.StartMessageID == "" {
		o.StartMessageID = StartLatest
	}
	if o.ReceiverQueueSize == 0 {
		o.ReceiverQueueSize = defaultReceiverQueueSize
	}
	if o.ReceiverQueueSize < 1 || o.ReceiverQueueSize > maxReceiverQueueSize {
		return nil, fmt.Errorf("%w: ReceiverQueueSize %d: want 1..%d", ErrInvalidArgument, o.ReceiverQueueSize, maxReceiverQueueSize)
	}
	if o.StartMessageID != StartEarliest && o.StartMessageID != StartLatest {
		if _, err := wsproto.ParseMessageID(o.StartMessageID); err != nil {
			return nil, fmt.Errorf("%w: StartMessageID: want earliest, latest or a message id: %w", ErrInvalidArgument, err)
		}
	}
	s, err := c.resolve(o.Stream)
	if err != nil {
		return nil, err
	}
	rd := &Reader{start: o.StartMessageID}
	url := func(b base) string {
		rd.mu.Lock()
		defer rd.mu.Unlock()
		return readerURL(b.ws, s, rd.start, o.ReceiverQueueSize, c.binary)
	}
	op := "reader " + s.String()
	rd.r = newReceiver(c, op, c.log.With(zap.Stringer("reader", s)), url, ErrRefused, []string{s.String()}, o.ReceiverQueueSize, false)
	if err := rd.r.start(ctx, rd); err != nil {
		return nil, err
	}
	return rd, nil
}

// Next returns the next message, waiting until one arrives, ctx ends, or
// the reader closes (ErrClosed) or fails for good.
func (rd *Reader) Next(ctx context.Context) (*Message, error) {
	for {
		m, err := rd.r.next(ctx)
		if err != nil {
			return nil, err
		}
		rd.mu.Lock()
		again := rd.hasLast && m.ID.Stream == rd.last.Stream && m.ID.Partition == rd.last.Partition && m.ID.Offset <= rd.last.Offset
		if !again {
			rd.last, rd.hasLast, rd.start = m.ID, true, m.RawID
		}
		rd.mu.Unlock()
		// The ack is the server's flow control; a lost one is harmless, the
		// next connection starts after rd.start anyway.
		if err := rd.r.ack("ack", wsbin.AckIndividual, m); err != nil {
			rd.r.log.Debug("reader ack not sent", zap.Error(err))
		}
		if !again {
			return m, nil
		}
	}
}

// Close closes the reader.
func (rd *Reader) Close() error {
	rd.r.close()
	rd.r.c.untrack(rd)
	return nil
}
