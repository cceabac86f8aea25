package replicator

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

var testSecret = []byte("test-fabric-secret-0123456789")

var t0 = time.Unix(1_700_000_000, 0)

// tnode is an in-memory shell around one engine, for tests and benchmarks.
type tnode struct {
	e        *Engine
	builder  *BatchBuilder
	journals map[string][]JournalEntry
	order    []Dot
}

func (n *tnode) ReadJournal(origin string, from, to uint64) ([]JournalEntry, error) {
	j := n.journals[origin]
	if from == 0 || to < from || to > uint64(len(j)) {
		return nil, fmt.Errorf("journal %s has %d, asked %d..%d", origin, len(j), from, to)
	}
	return j[from-1 : to], nil
}

type tmsg struct {
	from, to string
	batch    *Batch
	ack      *Ack
	wire     []byte
}

// tmesh wires engines together in memory; messages queue until delivered.
type tmesh struct {
	tb     testing.TB
	names  []string
	nodes  map[string]*tnode
	codec  *Codec
	now    time.Time
	queue  []tmsg
	cut    map[[2]string]bool
	encode bool
	// wireBytes and bodyBytes count encoded batch bytes and the bodies in
	// them; shipped counts shipped ops.
	wireBytes, bodyBytes, ackBytes, shipped int
}

func newTestMesh(tb testing.TB, names []string, cfg Config, encode bool) *tmesh {
	tb.Helper()
	c, err := NewCodec(testSecret)
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.SetMembership(names); err != nil {
		tb.Fatal(err)
	}
	m := &tmesh{tb: tb, names: names, nodes: make(map[string]*tnode), codec: c, now: t0,
		cut: make(map[[2]string]bool), encode: encode}
	for _, n := range names {
		cfg := cfg
		cfg.Self = n
		cfg.Regions = names
		e, err := New(cfg, Restore{})
		if err != nil {
			tb.Fatal(err)
		}
		m.nodes[n] = &tnode{e: e, builder: NewBatchBuilder(n, 1<<20), journals: make(map[string][]JournalEntry)}
	}
	return m
}

func (m *tmesh) publish(region string, body string) Delivery {
	d, err := m.nodes[region].e.Publish(m.now, []byte(body))
	if err != nil {
		m.tb.Fatalf("%s: publish: %v", region, err)
	}
	m.flush(region)
	return d
}

// flush carries out a node's output: journal deliveries, queue messages.
func (m *tmesh) flush(region string) {
	n := m.nodes[region]
	out := n.e.Ready()
	for _, d := range out.Deliveries {
		n.journals[d.Origin] = append(n.journals[d.Origin], JournalEntry{Seq: d.Seq, Meta: AppendMeta(nil, d), Body: d.Body})
		n.order = append(n.order, d.Dot())
	}
	for _, s := range out.Sends {
		bs, err := n.builder.Build(n, s)
		if err != nil {
			m.tb.Fatal(err)
		}
		for i := range bs {
			m.queue = append(m.queue, tmsg{from: region, to: s.Peer, batch: &bs[i]})
		}
	}
	for i := range out.Acks {
		m.queue = append(m.queue, tmsg{from: region, to: out.Acks[i].To, ack: &out.Acks[i]})
	}
}

func (m *tmesh) tick(d time.Duration) {
	m.now = m.now.Add(d)
	for _, r := range m.names {
		m.nodes[r].e.Tick(m.now)
		m.flush(r)
	}
}

// deliver hands every queued message to its receiver (dropping cut links)
// until the queue is empty.
func (m *tmesh) deliver() {
	for len(m.queue) > 0 {
		q := m.queue
		m.queue = nil
		for _, msg := range q {
			if m.cut[[2]string{msg.from, msg.to}] {
				continue
			}
			n := m.nodes[msg.to]
			var err error
			switch {
			case msg.batch != nil:
				b := *msg.batch
				if m.encode {
					w, err := m.codec.AppendBatch(nil, b)
					if err != nil {
						m.tb.Fatal(err)
					}
					m.wireBytes += len(w)
					for _, op := range b.Ops {
						m.bodyBytes += len(op.Body)
					}
					m.shipped += len(b.Ops)
					if b, err = m.codec.DecodeBatch(w); err != nil {
						m.tb.Fatal(err)
					}
				}
				err = n.e.ReceiveBatch(m.now, b)
				if errors.Is(err, ErrDuplicateBatch) {
					err = nil
				}
			default:
				a := *msg.ack
				if m.encode {
					w, err := m.codec.AppendAck(nil, a)
					if err != nil {
						m.tb.Fatal(err)
					}
					m.ackBytes += len(w)
					if a, err = m.codec.DecodeAck(w); err != nil {
						m.tb.Fatal(err)
					}
				}
				err = n.e.ReceiveAck(m.now, a)
			}
			if err != nil {
				m.tb.Fatalf("%s -> %s: %v", msg.from, msg.to, err)
			}
			m.flush(msg.to)
		}
	}
}

// settle ticks and delivers until nothing moves.
func (m *tmesh) settle(step time.Duration, rounds int) {
	for range rounds {
		m.tick(step)
		m.deliver()
	}
}
