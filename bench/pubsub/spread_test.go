package pubsub

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestSpreadURLs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"http://a:1", []string{"http://a:1"}},
		{"http://a:1/", []string{"http://a:1"}},
		{"http://a:1,http://b:2", []string{"http://a:1,http://b:2", "http://b:2,http://a:1"}},
		{"http://a:1,http://b:2,http://c:3", []string{
			"http://a:1,http://b:2,http://c:3",
			"http://b:2,http://c:3,http://a:1",
			"http://c:3,http://a:1,http://b:2",
		}},
		// Later elements without a scheme take the first's, so a rotated
		// list never starts without one.
		{"https://a:1, b:2 ,c:3", []string{
			"https://a:1,https://b:2,https://c:3",
			"https://b:2,https://c:3,https://a:1",
			"https://c:3,https://a:1,https://b:2",
		}},
	} {
		got, err := SpreadURLs(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SpreadURLs(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestSpreadURLsRefuses(t *testing.T) {
	for _, in := range []string{"", "http://a:1,", "http://a:1,,http://b:2", "a:1,http://b:2", "http://a:1,a:1",
		"http://a:1" + strings.Repeat(",x:1", maxSpreadURLs)} {
		if got, err := SpreadURLs(in); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("SpreadURLs(%q) = %q, %v; want ErrInvalidConfig", in, got, err)
		}
	}
}

// recordingTarget remembers what was created through it (test double of a
// node's client: the spread only routes calls).
type recordingTarget struct {
	name                 string
	producers, consumers []int
	prepared, cleaned    int
	closed               bool
	prepareErr, cleanErr error
}

func (r *recordingTarget) Name() string { return r.name }
func (r *recordingTarget) Prepare(context.Context, Plan) error {
	r.prepared++
	return r.prepareErr
}
func (r *recordingTarget) NewProducer(_ context.Context, id int, _ string) (Producer, error) {
	r.producers = append(r.producers, id)
	return nil, nil
}
func (r *recordingTarget) NewConsumer(_ context.Context, c ConsumerSpec, _ Deliver, _ func(error)) (Consumer, error) {
	r.consumers = append(r.consumers, c.ID)
	return nil, nil
}
func (r *recordingTarget) Cleanup(context.Context, Plan) error {
	r.cleaned++
	return r.cleanErr
}
func (r *recordingTarget) Close() error {
	r.closed = true
	return nil
}

func TestSpreadRoutesByIndex(t *testing.T) {
	ts := []*recordingTarget{{name: "n1"}, {name: "n2"}, {name: "n3"}}
	sp, err := Spread(ts[0], ts[1], ts[2])
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := sp.Prepare(ctx, Plan{}); err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		_, _ = sp.NewProducer(ctx, i, "s")
		_, _ = sp.NewConsumer(ctx, ConsumerSpec{ID: i}, nil, nil)
	}
	_ = sp.Cleanup(ctx, Plan{})
	_ = sp.Close()
	want := [][]int{{0, 3, 6}, {1, 4}, {2, 5}}
	for k, tg := range ts {
		if !reflect.DeepEqual(tg.producers, want[k]) || !reflect.DeepEqual(tg.consumers, want[k]) {
			t.Errorf("target %d: producers %v, consumers %v; want %v for both", k, tg.producers, tg.consumers, want[k])
		}
		if tg.prepared != 1 || !tg.closed {
			t.Errorf("target %d: prepared %d times, closed %v; want once, true", k, tg.prepared, tg.closed)
		}
	}
	if ts[0].cleaned != 1 || ts[1].cleaned != 0 || ts[2].cleaned != 0 {
		t.Errorf("cleaned %d/%d/%d times, want through the first target only", ts[0].cleaned, ts[1].cleaned, ts[2].cleaned)
	}
	if sp.Name() != "n1" {
		t.Errorf("name %q, want the first target's", sp.Name())
	}
	ts[1].prepareErr = errors.New("boom")
	if err := sp.Prepare(ctx, Plan{}); err == nil || !strings.Contains(err.Error(), "spread target 1") {
		t.Errorf("Prepare with target 1 failing: %v", err)
	}
	if _, err := Spread(); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Spread() = %v, want ErrInvalidConfig", err)
	}
	if one, _ := Spread(ts[0]); one != Target(ts[0]) {
		t.Errorf("Spread of one target is not that target")
	}
}

func TestConfigStream(t *testing.T) {
	for _, tc := range []struct {
		stream  string
		streams int
		ok      bool
	}{
		{"", 3, true},
		{"spread", 1, true},
		{"a.b_c-9", 1, true},
		{"spread", 2, false},
		{"_system", 1, false},
		{".x", 1, false},
		{"a/b", 1, false},
		{"a b", 1, false},
		{strings.Repeat("x", maxStreamNameBytes), 1, true},
		{strings.Repeat("x", maxStreamNameBytes+1), 1, false},
	} {
		err := Config{Stream: tc.stream, Streams: tc.streams}.WithDefaults().Validate()
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidConfig)) {
			t.Errorf("stream %q, streams %d: %v; want ok %v", tc.stream, tc.streams, err, tc.ok)
		}
	}
}
