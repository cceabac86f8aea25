package clients

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/causeway/causeway/broker/wsbin"
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
	binary     bool  // causeway-binary-v1 frames instead of JSON ones
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

// eager reports whether a producer without BatchMaxDelay sends what is
// queued now: while fewer than eagerFramesMax frames await their acks.
// Past that, queued messages wait for an ack (or a full batch), so that
// under load they go out together.
func (o *outbox) eager() bool { return len(o.inflight) < eagerFramesMax }

// add numbers and encodes m and queues it. On error nothing changes.
func (o *outbox) add(m ProducerMessage, done func(wsproto.MessageID, error)) error {
	if o.full() {
		return errOutboxFull
	}
	seq := o.nextSeq
	if m.SequenceID != nil {
		seq = *m.SequenceID
	}
	var frame []byte
	if o.binary {
		frame = encodePublishBinary(m, seq)
	} else {
		var err error
		if frame, err = encodePublish(m, seq); err != nil {
			return err
		}
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
	parts, size := o.takeParts(maxMessages, maxBytes)
	switch {
	case parts == nil:
		return nil
	case o.binary:
		b := make([]byte, 0, size)
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	return joinBatch(parts)
}

// takeParts is take without joining: the frame's parts, to be written one
// after the other, and their total length. A binary frame's parts are its
// header and each message's encoding; a JSON frame's are its messages.
func (o *outbox) takeParts(maxMessages, maxBytes int) (parts [][]byte, size int) {
	if len(o.queued) == 0 {
		return nil, 0
	}
	n, size := 1, len(o.queued[0].frame)+2
	for n < len(o.queued) && n < maxMessages && size+len(o.queued[n].frame)+1 <= maxBytes {
		size += len(o.queued[n].frame) + 1
		n++
	}
	group := o.queued[:n:n]
	parts = make([][]byte, 0, n+1)
	size = 0
	if o.binary {
		parts = append(parts, wsbin.AppendPublishHeader(nil, uint64(group[0].seq), n))
		size = len(parts[0])
	}
	for _, m := range group {
		parts = append(parts, m.frame)
		size += len(m.frame)
		o.queuedBytes -= len(m.frame)
	}
	o.queued = o.queued[n:]
	o.inflight = append(o.inflight, group)
	o.inflightN += n
	return parts, size
}

// ackResult is the server's answer for one message, or, with whole set,
// for every message of a frame.
type ackResult struct {
	published bool  // the server stored the message (now or earlier)
	err       error // a *SendError, or a protocol error about this answer
	id        wsproto.MessageID
}

// acked matches one JSON ack frame to the oldest frame in flight and
// completes its messages. An ack frame that does not fit (nothing in
// flight, wrong count, a context that names another message) is a protocol
// error and changes nothing. A single failed ack answering a batch fails
// the whole batch: the server rejected the frame as a whole.
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
	results := make([]ackResult, len(acks))
	for i, a := range acks {
		results[i] = jsonResult(a, group[min(i, len(group)-1)].seq)
	}
	return o.settle(results, whole), nil
}

// jsonResult reads one JSON ack.
func jsonResult(a wsproto.ProducerAck, seq int64) ackResult {
	if !a.OK() {
		return ackResult{err: sendErrorFromAck(a)}
	}
	if a.MessageID == "" {
		// A resend the server recognised as stored earlier but no longer
		// remembers the id of: published, id unknown.
		return ackResult{published: true}
	}
	id, err := wsproto.ParseMessageID(a.MessageID)
	if err != nil {
		return ackResult{published: true, err: fmt.Errorf("%w: ack for sequence id %d: %w", ErrProtocol, seq, err)}
	}
	return ackResult{published: true, id: id}
}

// ackedBinary matches one binary publish ack to the oldest frame in flight,
// as acked does; its context must be the frame's first sequence id.
func (o *outbox) ackedBinary(a *wsbin.PublishAck) ([]completion, error) {
	if len(o.inflight) == 0 {
		return nil, fmt.Errorf("%w: ack with no message in flight", ErrProtocol)
	}
	group := o.inflight[0]
	if a.Context != uint64(group[0].seq) {
		return nil, fmt.Errorf("%w: ack context %d, want %d", ErrProtocol, a.Context, group[0].seq)
	}
	if a.Refusal != nil {
		return o.settle([]ackResult{{err: &SendError{Code: a.Refusal.Code, Msg: a.Refusal.Msg}}}, true), nil
	}
	if a.Count != len(group) {
		return nil, fmt.Errorf("%w: %d acks for a frame of %d messages", ErrProtocol, a.Count, len(group))
	}
	results := make([]ackResult, a.Count)
	for i := range results {
		switch r := a.Result(i); r.Status {
		case wsbin.Stored, wsbin.Duplicate:
			results[i] = ackResult{published: true, id: wsproto.MessageID{Offset: r.Offset, Partition: -1}}
		case wsbin.DuplicateForgotten:
			results[i] = ackResult{published: true} // published, the id forgotten
		default:
			results[i] = ackResult{err: &SendError{Code: r.Code, Msg: r.Error}}
		}
	}
	return o.settle(results, false), nil
}

// settle completes the oldest frame in flight with one result per message,
// or results[0] for all of them when whole is set.
func (o *outbox) settle(results []ackResult, whole bool) []completion {
	group := o.inflight[0]
	out := make([]completion, len(group))
	for i, m := range group {
		r := results[0]
		if !whole {
			r = results[i]
		}
		if r.published {
			o.lastAcked = max(o.lastAcked, m.seq)
		}
		out[i] = completion{done: m.done, id: r.id, err: r.err}
	}
	o.inflight[0] = nil
	o.inflight = o.inflight[1:]
	o.inflightN -= len(group)
	return out
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
