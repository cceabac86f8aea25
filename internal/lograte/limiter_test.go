package lograte

import (
	"fmt"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestAllow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	type step struct {
		key        string
		at         time.Duration
		ok         bool
		suppressed uint64
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"first passes", []step{{"a", 0, true, 0}}},
		{"repeat within interval held", []step{{"a", 0, true, 0}, {"a", time.Second, false, 0}, {"a", 9 * time.Second, false, 0}}},
		{"after interval passes with count", []step{{"a", 0, true, 0}, {"a", 1, false, 0}, {"a", 2, false, 0}, {"a", 10 * time.Second, true, 2}, {"a", 11 * time.Second, false, 0}}},
		{"keys independent", []step{{"a", 0, true, 0}, {"b", 1, true, 0}, {"a", 2, false, 0}, {"b", 3, false, 0}}},
		{"count restarts", []step{{"a", 0, true, 0}, {"a", 1, false, 0}, {"a", 10 * time.Second, true, 1}, {"a", 20 * time.Second, true, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := New(10 * time.Second)
			for i, s := range tc.steps {
				ok, n := l.Allow(s.key, t0.Add(s.at))
				if ok != s.ok || n != s.suppressed {
					t.Fatalf("step %d (%s at %v): got (%v, %d), want (%v, %d)", i, s.key, s.at, ok, n, s.ok, s.suppressed)
				}
			}
		})
	}
}

func TestKeysBounded(t *testing.T) {
	l := New(time.Hour)
	t0 := time.Unix(1000, 0)
	for i := range 10 * maxKeys {
		l.Allow(fmt.Sprint(i), t0)
	}
	if n := len(l.keys); n > maxKeys {
		t.Fatalf("%d keys remembered, bound %d", n, maxKeys)
	}
}

// TestWarnFlood logs one refusal 100,000 times: one line comes out.
func TestWarnFlood(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	log := zap.New(core)
	l := New(time.Hour)
	for range 100_000 {
		l.Warn(log, "publish refused: no space", "publish refused", zap.String("reason", "no space"))
	}
	if n := logs.Len(); n != 1 {
		t.Fatalf("%d lines logged for 100,000 identical refusals, want 1", n)
	}
}
