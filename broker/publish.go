package broker

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
)

// Message is what a producer publishes.
type Message struct {
	Key        string
	Properties map[string]string
	Payload    []byte
	EventTime  int64 // Unix ms, 0 = none
	// SequenceID is the producer's sequence id; -1 lets the producer assign
	// the next one.
	SequenceID int64
}

// PublishResult is the outcome of one message.
type PublishResult struct {
	Offset uint64
	// Duplicate is set when the message was a re-send of one already
	// stored (same producer name and sequence id); Offset is the original's
	// when it is still remembered, and Known says whether it is.
	Duplicate bool
	Known     bool
	Err       error
}

// Producer is one attached producer on a stream.
type Producer struct {
	stream  *Stream
	name    string
	lastSeq int64 // last sequence id assigned or seen (only the producer's goroutine touches it)
	closed  atomic.Bool
	hold    joinHold // publishes waiting for the region to join (joinwait.go)
	// fenced is closed when this node stops leading the stream (a region
	// of several nodes): the front end closes the producer's connection
	// and the client reconnects to the new leader.
	fenced chan struct{}
}

// Fenced returns a channel closed when the producer can no longer publish
// here because another node leads its stream now.
func (p *Producer) Fenced() <-chan struct{} { return p.fenced }

// fence ends the producer because this node stopped leading its stream.
func (p *Producer) fence() {
	p.stream.mu.Lock()
	defer p.stream.mu.Unlock()
	select {
	case <-p.fenced:
	default:
		close(p.fenced)
	}
}

// Name returns the producer name (given or generated).
func (p *Producer) Name() string { return p.name }

// AttachProducer registers a client producer. An empty name gets a
// generated one; a name already connected is refused with ErrProducerBusy.
// initialSeq is the sequence id before the first message (-1 = continue
// after the last one this stream stored for that name). A reserved stream
// (naming.Reserved: a collection's op log or change feed) refuses it with
// naming.ErrReserved, whatever the front end.
func (s *Stream) AttachProducer(name string, initialSeq int64) (*Producer, error) {
	if err := naming.CheckClientWrite(s.name.Name); err != nil {
		return nil, fmt.Errorf("broker: producer on %s: %w", s.name, err)
	}
	return s.attachProducer(name, initialSeq)
}

// AttachInternalProducer registers a producer of the node's own services:
// AttachProducer without the reserved-stream check, for the collections
// service writing a collection's op log and change feed. Front ends never
// call it.
func (s *Stream) AttachInternalProducer(name string, initialSeq int64) (*Producer, error) {
	return s.attachProducer(name, initialSeq)
}

func (s *Stream) attachProducer(name string, initialSeq int64) (*Producer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deleted {
		return nil, fmt.Errorf("%w: %s", ErrStreamNotFound, s.name)
	}
	if err := s.notOwnerLocked(); err != nil {
		return nil, err
	}
	if len(s.producers) >= s.node.cfg.MaxProducersPerStream {
		return nil, fmt.Errorf("%w: limit %d", ErrTooManyProducers, s.node.cfg.MaxProducersPerStream)
	}
	if name == "" {
		s.nextAnon++
		name = s.node.cfg.Region + "-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.FormatUint(s.nextAnon, 10)
	}
	if _, busy := s.producers[name]; busy {
		return nil, fmt.Errorf("%w: %q on %s", ErrProducerBusy, name, s.name)
	}
	p := &Producer{stream: s, name: name, lastSeq: -1, fenced: make(chan struct{})}
	if d, ok := s.dedup[name]; ok {
		p.lastSeq = d.highest
	}
	if initialSeq >= 0 && initialSeq > p.lastSeq {
		p.lastSeq = initialSeq
	}
	s.producers[name] = p
	s.node.metrics.Producers.Add(1)
	return p, nil
}

// LastSequenceID is the highest sequence id stored or assigned for this
// producer name (-1 for none). Only valid before the first publish call or
// from the producer's own goroutine.
func (p *Producer) LastSequenceID() int64 { return p.lastSeq }

// Close detaches the producer.
func (p *Producer) Close() {
	if p.closed.Swap(true) {
		return
	}
	s := p.stream
	s.mu.Lock()
	delete(s.producers, p.name)
	s.mu.Unlock()
	s.node.metrics.Producers.Add(-1)
}

// PublishAsync appends msgs and calls done once with one result per message,
// after they are durable per the fsync policy. Calls from one goroutine keep
// their order. done runs on the storage's writer goroutine: keep it short.
// On a replicated stream of a region that is joining the fabric the call
// waits (asynchronously) until the region joined, so that de-duplication
// sees the messages its peers gave back (joinwait.go).
func (p *Producer) PublishAsync(msgs []Message, done func([]PublishResult)) {
	p.publish(msgs, done, false)
}

// PublishBorrowedAsync is PublishAsync for payloads the caller reuses as
// soon as done has run (the Kafka listener's decompression buffers). A
// stream stored in its own segment log takes them as they are: the log
// copies every record into its write buffer before done runs and keeps no
// reference after. Every other path keeps messages past done (a replicated
// stream's journal and sender, a region's replicated log, a memory stream)
// and is given its own copy first. A publish held while the region joins
// is copied when it is released: done has not run while it waits.
func (p *Producer) PublishBorrowedAsync(msgs []Message, done func([]PublishResult)) {
	p.publish(msgs, done, true)
}

func (p *Producer) publish(msgs []Message, done func([]PublishResult), borrowed bool) {
	if p.holdForJoin(msgs, done, borrowed) {
		return
	}
	p.publishNow(msgs, done, borrowed)
}

// publishNow is PublishAsync once the region has joined; borrowed: the
// payloads are the caller's again once done has run.
func (p *Producer) publishNow(msgs []Message, done func([]PublishResult), borrowed bool) {
	s := p.stream
	// Sequence ids this stream stored for the name since the producer
	// attached (its previous life's, given back after a wipe, or another
	// region's under the same name) are duplicates too.
	if h, ok := s.dedupHighest(p.name); ok && h > p.lastSeq {
		p.lastSeq = h
	}
	results := make([]PublishResult, len(msgs))
	now := time.Now().UnixMilli()
	recs := make([]segment.Record, 0, len(msgs))
	idx := make([]int, 0, len(msgs)) // results index of each record
	var bytes int
	for i, m := range msgs {
		if len(m.Payload) > s.node.cfg.MaxMessageBytes {
			results[i].Err = fmt.Errorf("%w: %d bytes, the limit is %d", ErrMessageTooLarge, len(m.Payload), s.node.cfg.MaxMessageBytes)
			continue
		}
		seq := m.SequenceID
		if seq < 0 {
			seq = p.lastSeq + 1
		}
		if seq <= p.lastSeq && m.SequenceID >= 0 {
			off, known := s.lookupDuplicate(p.name, seq)
			results[i] = PublishResult{Offset: off, Duplicate: true, Known: known}
			s.node.metrics.Duplicates.Add(1)
			continue
		}
		p.lastSeq = seq
		recs = append(recs, segment.Record{
			PublishTime: now,
			EventTime:   m.EventTime,
			Key:         m.Key,
			Properties:  m.Properties,
			Payload:     m.Payload,
			Producer:    p.name,
			SequenceID:  seq,
			Origin:      s.node.cfg.Region,
		})
		idx = append(idx, i)
		bytes += len(m.Payload)
	}
	if len(recs) == 0 {
		done(results)
		return
	}
	start := time.Now()
	finish := func(first uint64, err error) {
		for j, i := range idx {
			if err != nil {
				results[i].Err = err
				continue
			}
			results[i].Offset = first + uint64(j)
		}
		if err == nil {
			s.rememberPublished(p.name, recs, first)
			s.node.metrics.observePublish(len(recs), bytes, time.Since(start))
		} else {
			s.node.metrics.refused(s.log, s.name.String(), p.name, len(recs), err)
		}
		done(results)
	}
	s.mu.Lock()
	rlog, plog, notOwner := s.rlog, s.plog, s.notOwnerLocked()
	s.mu.Unlock()
	r := s.node.replicatorFor(s)
	switch {
	case notOwner != nil:
		finish(0, notOwner)
	case r != nil:
		if borrowed {
			ownPayloads(recs)
		}
		r.PublishStream(s, recs, finish)
	case rlog != nil:
		if borrowed {
			ownPayloads(recs)
		}
		rlog.AppendAsync(recs, finish)
	case s.derived:
		// Only the replicator appends to a stream its journals make
		// durable (none is set while the node starts or stops).
		finish(0, fmt.Errorf("broker: publish to %s: replication is not running: %w", s.name, ErrClosed))
	case plog != nil:
		plog.AppendAsync(recs, finish) // copies them before finish runs
	default:
		if borrowed {
			ownPayloads(recs)
		}
		finish(s.mlog.Append(recs), nil)
	}
}

// ownPayloads replaces recs' payloads by copies, in one allocation.
func ownPayloads(recs []segment.Record) {
	n := 0
	for i := range recs {
		n += len(recs[i].Payload)
	}
	buf := make([]byte, 0, n)
	for i := range recs {
		if recs[i].Payload == nil {
			continue
		}
		at := len(buf)
		buf = append(buf, recs[i].Payload...)
		recs[i].Payload = buf[at:len(buf):len(buf)]
	}
}

// Publish is the synchronous form of PublishAsync.
func (p *Producer) Publish(msgs []Message) []PublishResult {
	ch := make(chan []PublishResult, 1)
	p.PublishAsync(msgs, func(r []PublishResult) { ch <- r })
	return <-ch
}
