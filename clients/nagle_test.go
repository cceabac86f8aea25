package clients

import (
	"strconv"
	"testing"

	"github.com/causeway/causeway/broker/wsproto"
)

// TestOutboxEager: frames go out eagerly until eagerFramesMax await acks;
// an ack makes room again.
func TestOutboxEager(t *testing.T) {
	o := newOutbox(0, 100)
	for i := range eagerFramesMax + 3 {
		if err := o.add(ProducerMessage{Payload: []byte{byte(i)}}, func(wsproto.MessageID, error) {}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range eagerFramesMax {
		if !o.eager() {
			t.Fatalf("not eager with %d frames in flight", i)
		}
		if o.take(1, 1<<20) == nil {
			t.Fatal("nothing to take")
		}
	}
	if o.eager() {
		t.Fatalf("eager with %d frames in flight", eagerFramesMax)
	}
	if _, err := o.acked([]wsproto.ProducerAck{okAck(strconv.Itoa(1), 0)}); err != nil {
		t.Fatal(err)
	}
	if !o.eager() {
		t.Fatal("not eager after an ack")
	}
}

// TestProducerEagerThenWaitsForAck: with the default BatchMaxDelay (0) a
// message goes out at once while fewer than eagerFramesMax frames await
// acks; past that, messages queue until an ack and then go out together.
func TestProducerEagerThenWaitsForAck(t *testing.T) {
	f := newFakeServer(t)
	p, err := f.client(t).CreateProducer(ctxT(t), ProducerOptions{Stream: "s"})
	if err != nil {
		t.Fatal(err)
	}
	conn := f.accept(t)
	var cb callbacks
	var frames [][]byte
	for _, n := range []string{"a", "b", "c", "d"} {
		p.SendAsync(ProducerMessage{Payload: []byte(n)}, cb.done(n))
		fr := conn.next(t) // written without waiting for company or an ack
		if got := len(publishes(t, fr)); got != 1 {
			t.Fatalf("frame of %d messages for %q", got, n)
		}
		frames = append(frames, fr)
	}
	// eagerFramesMax frames in flight: these wait for an ack.
	for _, n := range []string{"e", "f", "g"} {
		p.SendAsync(ProducerMessage{Payload: []byte(n)}, cb.done(n))
	}
	next := uint64(0)
	conn.ackAll(t, frames[0], &next)
	last := conn.next(t)
	if msgs := publishes(t, last); len(msgs) != 3 || string(msgs[0].Payload) != "e" || string(msgs[2].Payload) != "g" {
		t.Fatalf("after the ack, a frame of %d messages (want e, f, g together)", len(msgs))
	}
	for _, fr := range append(frames[1:], last) {
		conn.ackAll(t, fr, &next)
	}
	if err := p.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if got := cb.String(); got != "a@0 b@1 c@2 d@3 e@4 f@5 g@6" {
		t.Fatalf("callbacks %s", got)
	}
}
