package shell

import (
	"go.uber.org/zap"

	"github.com/causeway/causeway/replicator"
)

// sendItem is a send range or an ack for one peer.
type sendItem struct {
	send *replicator.SendRange
	ack  *replicator.Ack
}

// sender encodes what the engine ships to one peer: it reads send ranges
// from the journals, cuts them into batches and hands the encoded
// messages to the transport. One goroutine per peer, so a slow read for
// one peer's catch-up delays no other peer.
type sender struct {
	s       *Shell
	peer    string
	q       chan sendItem
	builder *replicator.BatchBuilder
	codec   *replicator.Codec
	buf     []byte
}

func newSender(s *Shell, peer string) *sender {
	return &sender{
		s: s, peer: peer,
		q:       make(chan sendItem, maxQueuedSends),
		builder: replicator.NewBatchBuilder(s.self, s.opts.MaxBatchBytes),
		codec:   s.newCodec(),
	}
}

// queue hands an item to the sender without blocking; a full queue drops
// it (the engine's retransmission and periodic full acks recover).
func (x *sender) queue(it sendItem) {
	select {
	case x.q <- it:
	default:
		x.s.m.sendDrops.Add(1)
	}
}

func (x *sender) run() {
	defer x.s.wg.Done()
	for {
		select {
		case <-x.s.stop:
			return
		case it := <-x.q:
			x.handle(it)
		}
	}
}

func (x *sender) handle(it sendItem) {
	s := x.s
	if it.ack != nil {
		msg, err := x.codec.AppendAck(x.buf[:0], *it.ack)
		if err != nil {
			s.m.sendErrors.Add(1)
			s.log.Error("encode ack", zap.String("peer", x.peer), zap.Error(err))
			return
		}
		x.buf = msg
		s.transport.Send(x.peer, msg)
		return
	}
	batches, err := x.builder.Build(s.journals, *it.send)
	if err != nil {
		s.m.sendErrors.Add(1)
		s.log.Error("read send range from journal", zap.String("peer", x.peer), zap.Error(err))
		return
	}
	for _, b := range batches {
		// The window counts ops, not bytes: with large messages it holds
		// more than the link's queues, which would drop the excess (and
		// the engine resend it after a timeout). Go at the link's pace.
		if !s.transport.WaitRoom(x.peer, s.stop) && s.stopping() {
			return
		}
		msg, err := x.codec.AppendBatch(x.buf[:0], b)
		if err != nil {
			s.m.sendErrors.Add(1)
			s.log.Error("encode batch", zap.String("peer", x.peer), zap.Error(err))
			return
		}
		x.buf = msg
		s.transport.Send(x.peer, msg)
	}
}
