package e2e

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/vfs"
	"github.com/causeway/causeway/replicator/shell"
)

// TestGeoDiskFullRefusals fills region a's disk while a producer publishes
// there, one message per call. A refused publish must be stored nowhere
// (not in a, not replicated); one answered ErrAppliedLater is journaled
// and must end up everywhere, once; accepted ones everywhere, once. Once
// space returns, replication recovers without a restart (publishes are
// accepted again) and /health's source says so.
func TestGeoDiskFullRefusals(t *testing.T) {
	// "all": journals and streams fill; "streams": only stream files do,
	// so journal writes succeed and stream appends fail after them.
	for _, mode := range []string{"all", "streams"} {
		t.Run(mode, func(t *testing.T) { testGeoDiskFull(t, mode) })
	}
}

func testGeoDiskFull(t *testing.T, mode string) {
	inj := &vfs.Injector{}
	if mode == "streams" {
		inj.SetFilter(func(name string) bool {
			return !strings.Contains(name, string(filepath.Separator)+"repl"+string(filepath.Separator))
		})
	}
	f := newFabric(t, []string{"a", "b", "c"}, func(c *broker.Config) {
		if c.Region == "a" {
			c.DiskFaults = inj
		}
	})
	const stream = "full"
	f.publish("a", stream, "warm", 0, 100)
	f.waitCount(stream, 100)

	p := f.producer("a", stream, "client")
	var accepted, later, refused []int
	send := func(i int) broker.PublishResult {
		return p.Publish([]broker.Message{{Payload: fmt.Appendf(nil, "client:%d", i), SequenceID: int64(i)}})[0]
	}
	const n = 600
	fill := int64(48 << 10)
	if mode == "streams" {
		fill = 8 << 10
	}
	for i := range n {
		if i == 100 {
			inj.NoSpaceAfter(fill)
		}
		r := send(i)
		switch {
		case r.Err == nil && !r.Duplicate:
			accepted = append(accepted, i)
		case errors.Is(r.Err, shell.ErrAppliedLater):
			later = append(later, i)
		case r.Err != nil:
			refused = append(refused, i)
		default:
			t.Fatalf("publish %d: duplicate of nothing: %+v", i, r)
		}
	}
	if len(refused)+len(later) == 0 {
		t.Fatalf("no publish refused after filling the disk (accepted %d, %d writes, %d faults)", len(accepted), inj.Writes(), inj.Injected())
	}
	if h := f.Server("a").Repl.Health(); h.OK {
		t.Fatalf("replication healthy on a full disk after %d refusals", len(refused))
	}
	t.Logf("full disk: %d accepted, %d pending, %d refused (%d writes, %d faults injected)", len(accepted), len(later), len(refused), inj.Writes(), inj.Injected())

	inj.Reset()
	deadline := time.Now().Add(waitTimeout)
	for !f.Server("a").Repl.Health().OK {
		if time.Now().After(deadline) {
			t.Fatalf("replication did not recover after space returned: %+v", f.Server("a").Repl.Health())
		}
		time.Sleep(pollInterval)
	}
	// The pending ones are retried under their identity: stored once.
	for _, i := range later {
		for {
			r := send(i)
			if r.Err == nil || errors.Is(r.Err, shell.ErrNotApplied) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("retry of pending %d: %v", i, r.Err)
			}
			time.Sleep(pollInterval)
		}
	}
	// New publishes are accepted again.
	for i := n; i < n+100; i++ {
		if r := send(i); r.Err != nil || r.Duplicate {
			t.Fatalf("publish %d after recovery: %+v", i, r)
		}
		accepted = append(accepted, i)
	}
	want := len(accepted) + len(later)
	f.waitCount(stream, 100+want)
	stored := map[int]bool{}
	for _, i := range accepted {
		stored[i] = true
	}
	for _, i := range later {
		stored[i] = true
	}
	for _, r := range f.Regions {
		got := payloads(t, f.records(r, stream))["client"]
		seen := map[int]int{}
		for _, i := range got {
			seen[i]++
		}
		for _, i := range refused {
			if seen[i] > 0 {
				t.Fatalf("%s holds client:%d, which was refused", r, i)
			}
		}
		for i := range stored {
			if seen[i] != 1 {
				t.Fatalf("%s holds client:%d %d times, want once", r, i, seen[i])
			}
		}
	}
}
