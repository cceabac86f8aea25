package clients

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/causeway/causeway/broker/wsproto"
)

// errOutboxFull is returned by outbox.add when MaxPendingMessages are
// pending; the producer waits for room before adding.
var errOutboxFull = errors.New("clients: outbox full")

// outMsg is one message the outbox holds until the server answers it.
type outMsg struct {
	seq   int64
	frame []byte // the encoded publish frame, resent as is after a reconnect
	done  func(wsproto.MessageID, error)
}

// completion is a message the server answered (or that failed): its
// callback is due, in the order completions are returned.
type completion struct {
	done func(wsproto.MessageID, error)
	id   wsproto.MessageID
	err  error
}

// outbox is the producer's pure core: it numbers messages, cuts them into
// batch frames, matches acks to frames in order, and puts unanswered frames
// back in the queue after a reconnect. It does no I/O and is not safe for
// concurrent use; the producer guards it with its mutex.
type outbox struct {
	maxPending int   // bound on queued plus in-flight messages
	nextSeq    int64 // sequence id of the next message without one
	lastAcked  int64 // highest sequence id the server accepted

	queued      []*outMsg   // not yet written on the current connection, in send order
	queuedBytes int         // sum of len(frame) over queued
	inflight    [][]*outMsg // frames written and not yet answered, in write order
	inflightN   int         // messages in inflight
}

// newOutbox numbers the first message lastSequenceID+1.
func newOutbox(lastSequenceID int64, maxPending int) *outbox {
	return &outbox{maxPending: maxPending, nextSeq: lastSequenceID + 1, lastAcked: lastSequenceID}
}

// resume continues the numbering after lastSequenceID, the highest id the
// server has stored under this producer name, if that is ahead of ours.
func (o *outbox) resume(lastSequenceID int64) {
	if lastSequenceID >= o.nextSeq {
		o.nextSeq = lastSequenceID + 1
	}
	o.lastAcked = max(o.lastAcked, lastSequenceID)
}

func (o *outbox) pending() int { return len(o.queued) + o.inflightN }

func (o *outbox) full() bool { return o.pending() >= o.maxPending }

// add numbers and encodes m and queues it. On error nothing changes.
func (o *outbox) add(m ProducerMessage, done func(wsproto.MessageID, error)) error {
	if o.full() {
		return errOutboxFull
	}
	seq := o.nextSeq
	if m.SequenceID != nil {
		seq = *m.SequenceID
	}
	frame, err := encodePublish(m, seq)
	if err != nil {
		return err
	}
	if seq >= o.nextSeq {
		o.nextSeq = seq + 1
	}
	o.queued = append(o.queued, &outMsg{seq: seq, frame: frame, done: done})
	o.queuedBytes += len(frame)
	return nil
}

// batchReady reports whether the queue alone fills a batch.
func (o *outbox) batchReady(maxMessages, maxBytes int) bool {
	return len(o.queued) >= maxMessages || o.queuedBytes >= maxBytes
}

// take cuts the next frame from the head of the queue (at least one
// message, then as many as fit maxMessages and maxBytes) and moves its
// messages in flight. It returns nil when the queue is empty.
func (o *outbox) take(maxMessages, maxBytes int) []byte {
	if len(o.queued) == 0 {
		return nil
	}
	n, size := 1, len(o.queued[0].frame)+2
	for n < len(o.queued) && n < maxMessages && size+len(o.queued[n].frame)+1 <= maxBytes {
		size += len(o.queued[n].frame) + 1
		n++
	}
	group := o.queued[:n:n]
	frames := make([][]byte, n)
	for i, m := range group {
		frames[i] = m.frame
		o.queuedBytes -= len(m.frame)
	}
	o.queued = o.queued[n:]
	o.inflight = append(o.inflight, group)
	o.inflightN += n
	return joinBatch(frames)
}

// acked matches one ack frame to the oldest frame in flight and completes
// its messages. An ack frame that does not fit (nothing in flight, wrong
// count, a context that names another message) is a protocol error and
// changes nothing. A single failed ack answering a batch fails the whole
// batch: the server rejected the frame as a whole.
func (o *outbox) acked(acks []wsproto.ProducerAck) ([]completion, error) {
	if len(o.inflight) == 0 {
		return nil, fmt.Errorf("%w: ack with no message in flight", ErrProtocol)
	}
	group := o.inflight[0]
	whole := len(acks) == 1 && len(group) > 1 && !acks[0].OK()
	if !whole {
		if len(acks) != len(group) {
			return nil, fmt.Errorf("%w: %d acks for a frame of %d messages", ErrProtocol, len(acks), len(group))
		}
		for i, a := range acks {
			if a.Context != "" && a.Context != strconv.FormatInt(group[i].seq, 10) {
				return nil, fmt.Errorf("%w: ack context %q, want %d", ErrProtocol, a.Context, group[i].seq)
			}
		}
	}
	out := make([]completion, len(group))
	for i, m := range group {
		a := acks[0]
		if !whole {
			a = acks[i]
		}
		out[i] = o.complete(m, a)
	}
	o.inflight[0] = nil
	o.inflight = o.inflight[1:]
	o.inflightN -= len(group)
	return out, nil
}

func (o *outbox) complete(m *outMsg, a wsproto.ProducerAck) completion {
	if !a.OK() {
		return completion{done: m.done, err: sendErrorFromAck(a)}
	}
	o.lastAcked = max(o.lastAcked, m.seq)
	if a.MessageID == "" {
		// A resend the server recognised as stored earlier but no longer
		// remembers the id of: published, id unknown.
		return completion{done: m.done}
	}
	id, err := wsproto.ParseMessageID(a.MessageID)
	if err != nil {
		return completion{done: m.done, err: fmt.Errorf("%w: ack for sequence id %d: %w", ErrProtocol, m.seq, err)}
	}
	return completion{done: m.done, id: id}
}

// requeue puts every unanswered frame's messages back at the head of the
// queue, in their original order, to be resent with the same sequence ids.
func (o *outbox) requeue() {
	if o.inflightN == 0 {
		return
	}
	q := make([]*outMsg, 0, o.inflightN+len(o.queued))
	for _, g := range o.inflight {
		for _, m := range g {
			q = append(q, m)
			o.queuedBytes += len(m.frame)
		}
	}
	o.queued = append(q, o.queued...)
	o.inflight, o.inflightN = nil, 0
}

// failAll completes every pending message with err, oldest first.
func (o *outbox) failAll(err error) []completion {
	o.requeue()
	out := make([]completion, len(o.queued))
	for i, m := range o.queued {
		out[i] = completion{done: m.done, err: err}
	}
	o.queued, o.queuedBytes = nil, 0
	return out
}
