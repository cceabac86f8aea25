package link

import (
	"errors"
	"slices"
	"testing"
	"time"
)

var t0 = time.Unix(1_700_000_000, 0)

func TestLinkFates(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		copies  int // copies per message (every message)
		delay   time.Duration
		maxLate time.Duration
	}{
		{"perfect", Config{Latency: 30 * time.Millisecond}, 1, 30 * time.Millisecond, 0},
		{"down", Config{Latency: time.Millisecond, Down: true}, 0, 0, 0},
		{"all lost", Config{LossRate: 1}, 0, 0, 0},
		{"all duplicated", Config{Latency: 5 * time.Millisecond, DupRate: 1}, 2, 5 * time.Millisecond, 0},
		{"jitter bounded", Config{Latency: 10 * time.Millisecond, Jitter: 20 * time.Millisecond}, 1, 10 * time.Millisecond, 20 * time.Millisecond},
		{"all reordered", Config{Latency: 10 * time.Millisecond, ReorderRate: 1, ReorderDelay: time.Second}, 1, 10*time.Millisecond + time.Second, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := New(tc.cfg, 1)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 200 {
				now := t0.Add(time.Duration(i) * time.Millisecond)
				got := l.Send(now, nil)
				if len(got) != tc.copies {
					t.Fatalf("message %d: %d copies, want %d", i, len(got), tc.copies)
				}
				for _, at := range got {
					if d := at.Sub(now); d < tc.delay || d > tc.delay+tc.maxLate {
						t.Fatalf("message %d: delay %s not in [%s, %s]", i, d, tc.delay, tc.delay+tc.maxLate)
					}
				}
			}
			if s := l.Stats(); s.Sent != 200 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

func TestLinkRatesAndDeterminism(t *testing.T) {
	cfg := Config{Latency: 10 * time.Millisecond, Jitter: 50 * time.Millisecond, LossRate: 0.3, DupRate: 0.2}
	run := func(seed uint64) ([]time.Time, Stats) {
		l, err := New(cfg, seed)
		if err != nil {
			t.Fatal(err)
		}
		var all []time.Time
		for i := range 10000 {
			all = l.Send(t0.Add(time.Duration(i)*time.Millisecond), all)
		}
		return all, l.Stats()
	}
	a, sa := run(7)
	b, sb := run(7)
	if !slices.EqualFunc(a, b, time.Time.Equal) || sa != sb {
		t.Fatal("same seed, different fates")
	}
	if c, _ := run(8); slices.EqualFunc(a, c, time.Time.Equal) {
		t.Fatal("different seeds, same fates")
	}
	// Loose bounds, far from the expected values (3000 drops, ~1400 dups).
	if sa.Dropped < 2500 || sa.Dropped > 3500 || sa.Duplicated < 1000 || sa.Duplicated > 1800 {
		t.Fatalf("stats %+v far from the configured rates", sa)
	}
	reordered := 0
	for i := 1; i < len(a); i++ {
		if a[i].Before(a[i-1]) {
			reordered++
		}
	}
	if reordered == 0 {
		t.Fatal("jitter never reordered messages")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{LossRate: -0.1}, {DupRate: 1.5}, {Latency: -1}, {ReorderDelay: -1}} {
		if _, err := New(c, 1); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: err %v", c, err)
		}
	}
	l, _ := New(Config{}, 1)
	if err := l.SetConfig(Config{ReorderRate: 2}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("SetConfig: %v", err)
	}
}

func TestMeshPartitions(t *testing.T) {
	names := []string{"a", "b", "c", "d"}
	m, err := NewMesh(names, Config{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	reach := func() map[[2]string]bool {
		r := map[[2]string]bool{}
		for _, x := range names {
			for _, y := range names {
				if x != y && m.Reachable(x, y) {
					r[[2]string{x, y}] = true
				}
			}
		}
		return r
	}
	if got := len(reach()); got != 12 {
		t.Fatalf("%d links up, want 12", got)
	}
	// Asymmetric: a -> c cut, c -> a still up.
	if err := m.Cut("a", "c"); err != nil {
		t.Fatal(err)
	}
	if m.Reachable("a", "c") || !m.Reachable("c", "a") || !m.Reachable("a", "b") {
		t.Fatal("one-way cut wrong")
	}
	if got := m.Link("a", "c").Send(t0, nil); len(got) != 0 {
		t.Fatal("message crossed a cut link")
	}
	m.Heal()
	if err := m.Partition([]string{"a", "b"}, []string{"c", "d"}); err != nil {
		t.Fatal(err)
	}
	r := reach()
	want := map[[2]string]bool{{"a", "b"}: true, {"b", "a"}: true, {"c", "d"}: true, {"d", "c"}: true}
	if len(r) != len(want) {
		t.Fatalf("after partition: %v", r)
	}
	for k := range want {
		if !r[k] {
			t.Fatalf("after partition: %v", r)
		}
	}
	m.Heal()
	if err := m.Isolate("d"); err != nil {
		t.Fatal(err)
	}
	if got := len(reach()); got != 6 {
		t.Fatalf("isolate: %d links up, want 6", got)
	}
	if err := m.Cut("a", "zz"); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("cut to unknown: %v", err)
	}
	if m.Link("a", "a") != nil {
		t.Fatal("self link")
	}
}
