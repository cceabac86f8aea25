package pubsub

import (
	"context"
	"reflect"
	"testing"
)

// planTarget records plans and the streams producers and consumers were
// created on; its producers record what they published.
type planTarget struct {
	recordingTarget
	plans     []Plan
	producers []string
	consumers []string
	sent      map[string]int
}

func (p *planTarget) Prepare(_ context.Context, pl Plan) error {
	p.plans = append(p.plans, pl)
	return nil
}

func (p *planTarget) Cleanup(_ context.Context, pl Plan) error {
	p.plans = append(p.plans, pl)
	return nil
}

func (p *planTarget) NewProducer(_ context.Context, _ int, stream string) (Producer, error) {
	p.producers = append(p.producers, stream)
	return countingProducer{p: p, stream: stream}, nil
}

func (p *planTarget) NewConsumer(_ context.Context, c ConsumerSpec, _ Deliver, _ func(error)) (Consumer, error) {
	p.consumers = append(p.consumers, c.Stream)
	return nopConsumer{}, nil
}

type countingProducer struct {
	p      *planTarget
	stream string
}

func (c countingProducer) Publish(_ []byte, done func(error)) { c.p.sent[c.stream]++; done(nil) }
func (c countingProducer) Flush(context.Context) error        { return nil }
func (c countingProducer) Close() error                       { return nil }

type nopConsumer struct{}

func (nopConsumer) Close() error { return nil }

func TestPerPartition(t *testing.T) {
	ctx := context.Background()
	in := &planTarget{sent: map[string]int{}}
	pp := PerPartition(in)
	plan := Plan{Streams: []string{"s"}, Partitions: 3, MaxInFlight: 900}
	if err := pp.Prepare(ctx, plan); err != nil {
		t.Fatal(err)
	}
	want := Plan{Streams: []string{"s-partition-0", "s-partition-1", "s-partition-2"}, Partitions: 1, MaxInFlight: 300}
	if !reflect.DeepEqual(in.plans[0], want) {
		t.Errorf("inner plan %+v, want %+v", in.plans[0], want)
	}
	pr, err := pp.NewProducer(ctx, 0, "s")
	if err != nil {
		t.Fatal(err)
	}
	for range 7 {
		pr.Publish(nil, func(error) {})
	}
	if !reflect.DeepEqual(in.producers, want.Streams) || in.sent["s-partition-0"] != 3 || in.sent["s-partition-1"] != 2 || in.sent["s-partition-2"] != 2 {
		t.Errorf("producers on %v published %v; want one per partition, round robin 3/2/2", in.producers, in.sent)
	}
	c, err := pp.NewConsumer(ctx, ConsumerSpec{Stream: "s"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	if !reflect.DeepEqual(in.consumers, want.Streams) {
		t.Errorf("consumers on %v, want one per partition %v", in.consumers, want.Streams)
	}
	if err := pp.Cleanup(ctx, plan); err != nil || !reflect.DeepEqual(in.plans[1], want) {
		t.Errorf("cleanup plan %+v (%v), want %+v", in.plans[1], err, want)
	}

	// One partition: the plan and the streams go through unchanged.
	in1 := &planTarget{sent: map[string]int{}}
	pp1 := PerPartition(in1)
	one := Plan{Streams: []string{"a", "b"}, Partitions: 1, MaxInFlight: 10}
	_ = pp1.Prepare(ctx, one)
	_, _ = pp1.NewProducer(ctx, 0, "a")
	_, _ = pp1.NewConsumer(ctx, ConsumerSpec{Stream: "b"}, nil, nil)
	if !reflect.DeepEqual(in1.plans[0], one) || !reflect.DeepEqual(in1.producers, []string{"a"}) || !reflect.DeepEqual(in1.consumers, []string{"b"}) {
		t.Errorf("one partition: plan %+v, producers %v, consumers %v", in1.plans[0], in1.producers, in1.consumers)
	}
}
