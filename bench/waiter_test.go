package bench

import (
	"context"
	"testing"
	"time"
)

// TestWaiterNeverEarly: a sender is never released before its intended
// time, whether the wait is short (the precise clock only) or long (the
// runtime's timer, then the precise clock).
func TestWaiterNeverEarly(t *testing.T) {
	w := newWaiter()
	defer w.close()
	for _, d := range []time.Duration{0, 30 * time.Microsecond, 300 * time.Microsecond, 3 * time.Millisecond} {
		for range 20 {
			at := time.Now().Add(d)
			if !w.until(context.Background(), at) {
				t.Fatalf("wait of %v: false without a cancelled context", d)
			}
			if now := time.Now(); now.Before(at) {
				t.Fatalf("wait of %v returned %v early", d, at.Sub(now))
			}
		}
	}
}

func TestWaiterStopsWithItsContext(t *testing.T) {
	w := newWaiter()
	defer w.close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	if w.until(ctx, time.Now().Add(time.Hour)) {
		t.Fatal("an hour's wait returned true after its context was cancelled")
	}
}
