package bench

import (
	"math"
	"testing"
	"time"
)

func TestSchedule(t *testing.T) {
	start := time.Unix(1000, 0)
	s := NewSchedule(start, 1000)
	if !s.Fixed() {
		t.Fatal("1000/s schedule is not fixed")
	}
	for _, c := range []struct {
		i    int64
		want time.Duration
	}{{0, 0}, {1, time.Millisecond}, {1500, 1500 * time.Millisecond}} {
		if got := s.At(c.i).Sub(start); got != c.want {
			t.Errorf("At(%d) = start+%v, want start+%v", c.i, got, c.want)
		}
	}
	for _, c := range []struct {
		now  time.Duration
		want int64
	}{{-time.Second, 0}, {0, 1}, {999 * time.Microsecond, 1}, {time.Millisecond, 2}, {time.Second, 1001}} {
		if got := s.Due(start.Add(c.now)); got != c.want {
			t.Errorf("Due(start%+v) = %d, want %d", c.now, got, c.want)
		}
	}
	m := NewSchedule(start, 0)
	if m.Fixed() || m.Due(start) != math.MaxInt64 || !m.At(5).Equal(start) {
		t.Errorf("max-rate schedule: fixed %v due %d", m.Fixed(), m.Due(start))
	}
}

func TestSenderRatesStaggered(t *testing.T) {
	start := time.Unix(0, 0)
	ss := SenderRates(start, 4000, 4)
	if len(ss) != 4 {
		t.Fatalf("%d schedules", len(ss))
	}
	// Together the senders fire every 250 µs: sender i at i*250µs + k ms.
	for i, s := range ss {
		if got, want := s.At(0).Sub(start), time.Duration(i)*250*time.Microsecond; got != want {
			t.Errorf("sender %d starts at %v, want %v", i, got, want)
		}
		if got := s.At(1).Sub(s.At(0)); got != time.Millisecond {
			t.Errorf("sender %d interval %v, want 1ms", i, got)
		}
	}
	for _, s := range SenderRates(start, 0, 3) {
		if s.Fixed() {
			t.Error("max rate split into fixed schedules")
		}
	}
	if len(SenderRates(start, 10, 0)) != 0 {
		t.Error("schedules for no sender")
	}
}
