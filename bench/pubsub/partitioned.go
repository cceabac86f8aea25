package pubsub

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// PartitionStream is the Pulsar-style name of partition i of stream.
func PartitionStream(stream string, i int) string { return fmt.Sprintf("%s-partition-%d", stream, i) }

// perPartition expands a partitioned plan into its partition streams
// before the target sees it: a producer is one inner producer per
// partition, published to round robin, and a consumer one inner consumer
// per partition. In a region of several nodes a consumer of several
// streams must have them all led by one node, which a spread stream's
// partitions are not.
type perPartition struct {
	t          Target
	partitions int
}

// PerPartition returns t with partitions handled above it: t is given
// each workload stream's partition streams ({name}-partition-{i}) as plain
// streams, with one producer and one consumer per partition stream.
func PerPartition(t Target) Target { return &perPartition{t: t} }

func (p *perPartition) Name() string { return p.t.Name() }

// inner is the plan the wrapped target sees.
func (p *perPartition) inner(pl Plan) Plan {
	if pl.Partitions <= 1 {
		return pl
	}
	in := pl
	in.Streams = nil
	for _, s := range pl.Streams {
		for i := range pl.Partitions {
			in.Streams = append(in.Streams, PartitionStream(s, i))
		}
	}
	in.Partitions = 1
	in.MaxInFlight = max(pl.MaxInFlight/pl.Partitions, 1)
	return in
}

func (p *perPartition) streams(stream string) []string {
	if p.partitions <= 1 {
		return []string{stream}
	}
	out := make([]string, p.partitions)
	for i := range out {
		out[i] = PartitionStream(stream, i)
	}
	return out
}

func (p *perPartition) Prepare(ctx context.Context, pl Plan) error {
	p.partitions = pl.Partitions
	return p.t.Prepare(ctx, p.inner(pl))
}

func (p *perPartition) Cleanup(ctx context.Context, pl Plan) error {
	return p.t.Cleanup(ctx, p.inner(pl))
}

func (p *perPartition) Close() error { return p.t.Close() }

func (p *perPartition) NewProducer(ctx context.Context, id int, stream string) (Producer, error) {
	rr := &roundRobin{}
	for _, s := range p.streams(stream) {
		pr, err := p.t.NewProducer(ctx, id, s)
		if err != nil {
			_ = rr.Close()
			return nil, fmt.Errorf("producer on %s: %w", s, err)
		}
		rr.ps = append(rr.ps, pr)
	}
	return rr, nil
}

func (p *perPartition) NewConsumer(ctx context.Context, c ConsumerSpec, deliver Deliver, fail func(error)) (Consumer, error) {
	var cs consumers
	for _, s := range p.streams(c.Stream) {
		spec := c
		spec.Stream = s
		cons, err := p.t.NewConsumer(ctx, spec, deliver, fail)
		if err != nil {
			_ = cs.Close()
			return nil, fmt.Errorf("consumer on %s: %w", s, err)
		}
		cs = append(cs, cons)
	}
	return cs, nil
}

// roundRobin publishes to its producers in turn.
type roundRobin struct {
	mu   sync.Mutex
	ps   []Producer
	next int
}

func (r *roundRobin) Publish(payload []byte, done func(error)) {
	r.mu.Lock()
	p := r.ps[r.next]
	r.next = (r.next + 1) % len(r.ps)
	r.mu.Unlock()
	p.Publish(payload, done)
}

func (r *roundRobin) Flush(ctx context.Context) error {
	var errs []error
	for _, p := range r.ps {
		if err := p.Flush(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *roundRobin) Close() error {
	var errs []error
	for _, p := range r.ps {
		if err := p.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// consumers closes every inner consumer.
type consumers []Consumer

func (cs consumers) Close() error {
	var errs []error
	for _, c := range cs {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
