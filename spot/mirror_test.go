package spot

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
)

// recordedFeed keeps the home's change events; its reader side shows only
// the first `shown` of them (the replication lag) and can pretend the
// feed was trimmed.
type recordedFeed struct {
	mu      sync.Mutex
	changes []Change
	shown   int
	trimmed bool
}

func (f *recordedFeed) Publish(cs []Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, cs...)
}

func (f *recordedFeed) show(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shown = n
}

func (f *recordedFeed) ReadChanges(ref Ref, from uint64, max int) ([]Change, uint64, uint64, bool, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	end := uint64(f.shown)
	if from >= end {
		return nil, from, end, !f.trimmed, true, nil
	}
	to := min(end, from+uint64(max))
	return append([]Change(nil), f.changes[from:to]...), to, end, !f.trimmed, true, nil
}

// TestStaleReadsFromTheFeed: a region other than the home answers reads
// that allow it from its copy of the change feed, marked possibly stale,
// and insists on the home for strong ones.
func TestStaleReadsFromTheFeed(t *testing.T) {
	feed := &recordedFeed{}
	homeCfg := testConfig(t, "us", 1)
	home := startNode(t, homeCfg, Options{Feed: feed})
	away := startNode(t, Config{Region: "eu", Regions: map[string][]string{"us": {home.url()}}}, Options{Mirror: feed})
	ctx := ctxT(t)
	createAccounts(t, home.svc)
	if _, err := home.svc.Insert(ctx, accounts, "a", json.RawMessage(`{"n":1}`), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	stale := ReadOptions{AllowStale: true}
	// Nothing replicated yet: the copy says "not found", marked stale.
	if _, isStale, err := away.svc.GetWith(ctx, accounts, "a", stale); !errors.Is(err, ErrDocumentNotFound) || !isStale {
		t.Fatalf("before replication: stale %v err %v", isStale, err)
	}
	feed.show(1)
	res, isStale, err := away.svc.GetWith(ctx, accounts, "a", stale)
	if err != nil || !isStale || string(res.Doc) == "" {
		t.Fatalf("after replication: %+v stale %v err %v", res, isStale, err)
	}
	first := res.Rev
	upd, err := away.svc.Patch(ctx, accounts, "a", json.RawMessage(`{"n":2}`), WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res, isStale, _ = away.svc.GetWith(ctx, accounts, "a", stale); res.Rev != first || !isStale {
		t.Fatalf("lagging copy answered %s (stale %v), want the old %s", res.Rev, isStale, first)
	}
	if res, isStale, err = away.svc.GetWith(ctx, accounts, "a", ReadOptions{}); err != nil || isStale || res.Rev != upd.Rev {
		t.Fatalf("strong read: %s stale %v err %v, want %s", res.Rev, isStale, err, upd.Rev)
	}
	// Over HTTP: the answer says how it was served.
	for _, tc := range []struct{ query, want string }{{"", "possibly-stale"}, {"?consistency=strong", "strong"}} {
		resp, err := http.Get(away.url() + "/_fabric/_system/_api/document/accounts/a" + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get(headerConsistency); resp.StatusCode != http.StatusOK || got != tc.want {
			t.Fatalf("GET%s: %d %s, want %s", tc.query, resp.StatusCode, got, tc.want)
		}
	}
	// A trimmed copy that lacks a key reads it from the home.
	feed.mu.Lock()
	feed.trimmed = true
	feed.mu.Unlock()
	away.svc.mirror.forget(accounts)
	if _, err := home.svc.Insert(ctx, accounts, "b", json.RawMessage(`{}`), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, isStale, err := away.svc.GetWith(ctx, accounts, "b", stale); err != nil || isStale {
		t.Fatalf("key missing from a trimmed copy: stale %v err %v", isStale, err)
	}
}
