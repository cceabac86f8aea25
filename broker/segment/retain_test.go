package segment

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/vfs"
)

// TestAnsweredAppendsAreNotRetained: once an append is answered the log
// keeps nothing of it reachable - its records' payloads and its callback
// (and whatever the caller hangs on them: a replicated apply's callback
// held a whole step of publishes) can be collected while the log stays
// open and idle.
func TestAnsweredAppendsAreNotRetained(t *testing.T) {
	l := openLog(t, vfs.NewMem(), Options{})
	defer l.Close()
	const n = 200
	var collected atomic.Int32
	var wg sync.WaitGroup
	wg.Add(n)
	for i := range n {
		payload := make([]byte, 64)
		runtime.AddCleanup(&payload[0], func(*atomic.Int32) { collected.Add(1) }, &collected)
		l.AppendAsync([]Record{{Payload: payload, SequenceID: int64(i)}}, func(_ uint64, err error) {
			defer wg.Done()
			if err != nil {
				t.Errorf("append %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for collected.Load() < n && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if got := collected.Load(); got != n {
		t.Fatalf("%d of %d answered appends' payloads still reachable from the idle log", n-got, n)
	}
}
