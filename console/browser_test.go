package console_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/internal/testfabric"
	"github.com/causeway/causeway/internal/testnet"
	"github.com/causeway/causeway/server"
	"github.com/causeway/causeway/spot"
)

// browserAllocator starts chromium at exe with the options every console
// test uses, plus extra. Its temporary files (with --disable-dev-shm-usage,
// its shared memory too) go to a directory of the test's, removed with it:
// in /tmp they outlived every run.
func browserAllocator(t *testing.T, exe string, extra ...chromedp.ExecAllocatorOption) (context.Context, context.CancelFunc) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Env("TMPDIR="+t.TempDir()))
	return chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
}

// chromium finds Debian's chromium (installed by .ci/run). Without one the
// test skips, except under CI=true, where it fails.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium binary on PATH (.ci/run installs Debian's chromium)")
	}
	t.Skip("no chromium binary on PATH: install Debian's chromium to run the console's browser test")
	return ""
}

// artifacts is where screenshots go: $CAUSEWAY_ARTIFACTS/console when
// set, else the test's temporary directory.
func artifacts(t *testing.T) string {
	dir := t.TempDir()
	if a := os.Getenv("CAUSEWAY_ARTIFACTS"); a != "" {
		dir = filepath.Join(a, "console")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browserFabric starts two regions with authentication on, the same
// superuser key and token secret in both, and the console on.
func browserFabric(t *testing.T) (*testfabric.Fabric, string) {
	_, key, err := auth.NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	regions := []string{"us-east", "eu-west"}
	httpAddrs := testnet.FreeAddrs(t, len(regions)) // fixed: a restarted node keeps its URL
	on := true
	f := testfabric.New(t, regions, func(c *broker.Config) {
		c.Auth.Enabled, c.Auth.AdminKey = &on, key
		c.Auth.JWTSecret = "console-browser-test-jwt-secret-0123456789"
		for i, r := range regions {
			if c.Region == r {
				c.HTTPAddr = httpAddrs[i]
			}
		}
	})
	// SPOT: one replica in us-east; eu-west forwards to it.
	raft := testnet.FreeAddrs(t, 1)[0]
	f.Options["us-east"] = server.Options{Console: true, Spot: &spot.Config{
		Replicas: []spot.ReplicaConfig{{ID: 1, RaftAddress: raft}}, Members: map[uint64]string{1: raft},
		Regions: map[string][]string{"eu-west": {"http://" + httpAddrs[1]}}, RTTMillisecond: 5, ElectionRTT: 20, HeartbeatRTT: 2}}
	f.Options["eu-west"] = server.Options{Console: true, Spot: &spot.Config{
		Regions: map[string][]string{"us-east": {"http://" + httpAddrs[0]}}, RTTMillisecond: 5, ElectionRTT: 20, HeartbeatRTT: 2}}
	f.StartAll()
	return f, key
}

// apiCall is a request to a node's API with the key (the test's own
// writes, made outside the browser).
func apiCall(t *testing.T, key, method, url, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, url, res.StatusCode, b)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// eventually waits for cond with a deadline.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type tab struct {
	t       *testing.T
	ctx     context.Context
	name    string
	dir     string
	started bool
}

func (b *tab) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx := b.ctx
	if b.started { // the first run opens the tab: it must not be time-limited
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(b.ctx, 20*time.Second)
		defer cancel()
	}
	b.started = true
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(what, err)
	}
}

// fail ends the test with what the page showed.
func (b *tab) fail(what string, err error) {
	b.t.Helper()
	page, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 3000) : ''`))
	b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
	b.t.Fatalf("%s (%s): %v\npage text:\n%s", what, b.name, err, page)
}

// value evaluates js in the page.
func value[T any](b *tab, what, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.fail(what, err)
	}
	return v
}

// wait polls a JavaScript condition in the page.
func (b *tab) wait(what, js string) {
	b.t.Helper()
	// A page being drawn again may not hold the elements yet: not yet.
	js = "(() => { try { return !!(" + js + "); } catch (e) { return false; } })()"
	_, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(15*time.Second),
		chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		b.fail(what, err)
	}
}

func (b *tab) eval(js string) {
	b.t.Helper()
	value[chromedp.Void](b, "eval "+js, js)
}

func (b *tab) page(hash string) {
	b.t.Helper()
	b.eval(fmt.Sprintf(`location.hash = %q`, hash))
	b.wait("page "+hash, fmt.Sprintf(`document.getElementById('page').dataset.page === %q && !document.querySelector('#page > p.muted')`,
		strings.Split(strings.TrimPrefix(hash, "#/"), "/")[0]))
}

func (b *tab) shot(name string) {
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(b.dir, b.name+"-"+name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

func (b *tab) login(key string) {
	b.t.Helper()
	b.run("log in", chromedp.WaitVisible(chromedp.CSS(`#login-cred`)),
		chromedp.SendKeys(chromedp.CSS(`#login-cred`), key),
		chromedp.Click(chromedp.CSS(`#login-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#shell`)))
}

// TestConsoleInChromium drives the console in real Chromium against two
// regions: log in, create a stream, publish in one region and see the
// message in the other region's live tail, cut a link and see it, edit a
// document while the link is cut and see the merged result once healed,
// run a query; every page is screenshotted. It also measures the first
// load and checks what a key without admin grants is offered.
func TestConsoleInChromium(t *testing.T) {
	exe := chromium(t)
	dir := artifacts(t)
	f, key := browserFabric(t)
	us, eu := f.Server("us-east").URL(), f.Server("eu-west").URL()

	actx, cancel := browserAllocator(t, exe, chromedp.WindowSize(1280, 1000), chromedp.Flag("disable-dev-shm-usage", true))
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	a := &tab{t: t, ctx: bctx, name: "us-east", dir: dir}
	a.run("start chromium", chromedp.Navigate("about:blank"))

	// The first load: the login page and everything it pulls in.
	a.run("first load", chromedp.Navigate(us+"/console/"), chromedp.WaitVisible(chromedp.CSS(`#login-cred`)))
	type firstLoad struct {
		Bytes, Files int
		Millis       float64
	}
	load := value[firstLoad](a, "measure", `(() => {
		const nav = performance.getEntriesByType('navigation')[0];
		const res = performance.getEntriesByType('resource');
		return {Bytes: nav.transferSize + res.reduce((a, r) => a + r.transferSize, 0), Files: 1 + res.length,
			Millis: nav.loadEventEnd - nav.startTime};
	})()`)
	t.Logf("first load on loopback: %d bytes transferred in %d files, %.0f ms to the load event", load.Bytes, load.Files, load.Millis)
	if load.Bytes <= 0 || load.Bytes > 1<<20 {
		t.Errorf("first load transferred %d bytes, want (0, 1 MiB]", load.Bytes)
	}
	// The goal is under 1 s (200-600 ms measured); the bound leaves room
	// for a 2-core machine shared with the rest of the suite.
	if load.Millis > 2000 {
		t.Errorf("first load took %.0f ms on loopback, want under 1 s", load.Millis)
	}
	a.shot("login")

	// A wrong key: the login says so.
	a.run("bad login", chromedp.SendKeys(chromedp.CSS(`#login-cred`), "cwk_0000000000000000_nope"), chromedp.Click(chromedp.CSS(`#login-submit`)))
	a.wait("login error", `document.getElementById('login-error').textContent.includes('refused')`)
	a.eval(`document.getElementById('login-cred').value = ''`)
	a.login(key)
	a.page("#/fabric")
	a.wait("fabric shows the link up", `(document.querySelector('[data-link="eu-west"]')||{}).textContent === 'up'`)
	a.shot("fabric")

	// Create a stream; a bad name gets the API's error next to the form.
	a.page("#/streams")
	a.run("bad stream name", chromedp.SendKeys(chromedp.CSS(`#stream-name`), "bad name!"), chromedp.Click(chromedp.CSS(`#stream-create`)))
	a.wait("stream name error", `document.querySelector('[data-error="create-stream"]').textContent.startsWith('400')`)
	a.eval(`document.getElementById('stream-name').value = ''`)
	a.run("create stream", chromedp.SendKeys(chromedp.CSS(`#stream-name`), "console-e2e"), chromedp.Click(chromedp.CSS(`#stream-create`)))
	a.wait("stream listed", `!!document.querySelector('[data-stream="console-e2e"]') && !!document.getElementById('publish-send')`)

	// eu-west's console tails the stream from its start.
	bctx2, cancel2 := chromedp.NewContext(bctx)
	defer cancel2()
	b := &tab{t: t, ctx: bctx2, name: "eu-west", dir: dir}
	b.run("open eu-west", chromedp.Navigate(eu+"/console/"))
	b.login(key)
	b.page("#/streams/console-e2e")
	b.eval(`(() => { const s = document.getElementById('tail-from'); s.value = 'earliest'; s.dispatchEvent(new Event('change')); })()`)
	b.wait("tail live", `document.getElementById('tail-status').textContent.startsWith('live')`)

	// Publish in us-east with a key and properties.
	a.run("publish", chromedp.SetValue(chromedp.CSS(`#publish-payload`), `{"hello":"from the console"}`),
		chromedp.SendKeys(chromedp.CSS(`#publish-key`), "k1"),
		chromedp.SendKeys(chromedp.CSS(`#publish-props`), `{"source":"console"}`),
		chromedp.Click(chromedp.CSS(`#publish-send`)))
	a.wait("publish acknowledged", `document.getElementById('publish-result').textContent.startsWith('stored as')`)
	a.wait("own tail shows it", `document.getElementById('tail').textContent.includes('from the console')`)
	a.shot("streams")

	// A durable subscription, made by a consumer that then leaves: skip
	// and reset from the console move its cursor.
	sub, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(us, "http")+
		"/ws/v2/consumer/persistent/_mm/_system/console-e2e/audit?subscriptionInitialPosition=Earliest&receiverQueueSize=1",
		http.Header{"Authorization": {"Bearer " + key}})
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	_ = sub.Close()
	a.wait("subscription backlog 1", `(document.querySelector('[data-sub-backlog="audit"]')||{}).textContent === '1'`)
	a.run("skip", chromedp.Click(chromedp.CSS(`[data-sub-skip="audit"]`)))
	a.wait("backlog 0 after the skip", `(document.querySelector('[data-sub-backlog="audit"]')||{}).textContent === '0'`)
	a.run("reset", chromedp.SendKeys(chromedp.CSS(`[data-sub-to="audit"]`), "earliest"), chromedp.Click(chromedp.CSS(`[data-sub-reset="audit"]`)))
	a.wait("backlog 1 after the reset", `(document.querySelector('[data-sub-backlog="audit"]')||{}).textContent === '1'`)
	b.wait("eu-west tail shows it", `document.getElementById('tail').textContent.includes('"hello": "from the console"') &&
		document.getElementById('tail').textContent.includes('key=k1') && document.getElementById('tail').textContent.includes('"source":"console"')`)
	b.shot("streams-tail")

	// A document written in us-east, replicated to eu-west.
	apiCall(t, key, "POST", us+"/_fabric/_system/_api/collection", `{"name":"people"}`)
	apiCall(t, key, "POST", us+"/_fabric/_system/_api/document/people", `{"_key":"ann","a":1}`)
	eventually(t, 15*time.Second, "ann in eu-west", func() bool {
		req, _ := http.NewRequest("GET", eu+"/_fabric/_system/_api/document/people/ann", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})

	// Cut the link from us-east's console; the fabric page shows it.
	a.page("#/fabric")
	a.run("cut", chromedp.Click(chromedp.CSS(`[data-action="cut-eu-west"]`)))
	a.wait("link shown cut", `(document.querySelector('[data-link="eu-west"]')||{}).textContent === 'cut'`)
	a.shot("fabric-cut")

	// While cut: eu-west sets b, the console edits a in us-east.
	apiCall(t, key, "PATCH", eu+"/_fabric/_system/_api/document/people/ann", `{"b":2}`)
	a.page("#/collections/people")
	a.run("open ann", chromedp.SendKeys(chromedp.CSS(`#doc-key`), "ann"), chromedp.Click(chromedp.CSS(`#doc-find`)))
	a.wait("ann loaded", `document.getElementById('doc-json') && document.getElementById('doc-json').value.includes('"a": 1')`)
	a.eval(`(() => { const t = document.getElementById('doc-json'); const d = JSON.parse(t.value); d.a = 5; t.value = JSON.stringify(d); })()`)
	a.run("save", chromedp.Click(chromedp.CSS(`#doc-save`)))
	a.wait("saved", `document.getElementById('doc-view').textContent.includes('"a": 5')`)
	// Changed by someone else since it was loaded: saving is refused (412,
	// the _rev precondition) with the API's message where the user saved.
	apiCall(t, key, "PATCH", us+"/_fabric/_system/_api/document/people/ann", `{"c":3}`)
	a.eval(`(() => { const t = document.getElementById('doc-json'); const d = JSON.parse(t.value); d.a = 6; t.value = JSON.stringify(d); })()`)
	a.run("save", chromedp.Click(chromedp.CSS(`#doc-save`)))
	a.wait("412 shown", `document.querySelector('[data-error="document"]').textContent.startsWith('412')`)

	// eu-west then sets a too: a conflict once they meet.
	apiCall(t, key, "PATCH", eu+"/_fabric/_system/_api/document/people/ann", `{"a":7}`)

	// Heal; the document becomes the merge of both sides: b from eu-west,
	// c from us-east, and for a one value wins and the other is listed as
	// its conflict.
	a.page("#/fabric")
	a.run("heal", chromedp.Click(chromedp.CSS(`[data-action="heal-eu-west"]`)))
	a.wait("link shown up", `(document.querySelector('[data-link="eu-west"]')||{}).textContent === 'up'`)
	a.page("#/collections/people")
	deadline := time.Now().Add(20 * time.Second)
	for {
		a.run("reopen ann", chromedp.SetValue(chromedp.CSS(`#doc-key`), "ann"), chromedp.Click(chromedp.CSS(`#doc-find`)))
		a.run("wait", chromedp.Sleep(200*time.Millisecond))
		merged := value[bool](a, "read ann", `(() => { const v = document.getElementById('doc-view');
			if (!v || !v.textContent.includes('"b": 2') || !v.textContent.includes('"c": 3')) return false;
			const row = [...v.querySelectorAll('tbody tr')].map((r) => [...r.children].map((c) => c.textContent));
			const won = v.textContent.includes('"a": 5') ? '7' : v.textContent.includes('"a": 7') ? '5' : '';
			return row.some((r) => r[0] === 'a' && r[1] === won); })()`)
		if merged {
			break
		}
		if time.Now().After(deadline) {
			a.shot("not-merged")
			t.Fatal("the console never showed ann merged ({a:5 or 7, b:2, c:3}, the other a a conflict) after the heal")
		}
	}
	a.shot("collections")

	// An index; a key/value collection with a default TTL and an entry
	// that expires.
	a.run("index", chromedp.SendKeys(chromedp.CSS(`#index-path`), "a"), chromedp.SendKeys(chromedp.CSS(`#index-name`), "by_a"),
		chromedp.Click(chromedp.CSS(`#index-create`)))
	a.wait("index listed", `document.getElementById('indexes').textContent.includes('by_a')`)
	a.page("#/collections")
	a.run("create kv", chromedp.SendKeys(chromedp.CSS(`#collection-name`), "sessions"), chromedp.SetValue(chromedp.CSS(`#collection-kind`), "kv"),
		chromedp.SetValue(chromedp.CSS(`#collection-ttl`), "60"), chromedp.Click(chromedp.CSS(`#collection-create`)))
	a.wait("kv page", `!!document.getElementById('kv-set') && document.getElementById('page').textContent.includes('default TTL 60 s')`)
	a.run("kv set", chromedp.SendKeys(chromedp.CSS(`#kv-key`), "s1"), chromedp.SendKeys(chromedp.CSS(`#kv-value`), `{"user":"ann"}`),
		chromedp.SendKeys(chromedp.CSS(`#kv-ttl`), "30"), chromedp.Click(chromedp.CSS(`#kv-set`)))
	a.wait("kv entry with its expiry", `(() => { const t = document.getElementById('kv-entries').textContent;
		return t.includes('s1') && t.includes('"user":"ann"') && /20\d\d-\d\d-\d\d/.test(t); })()`)
	a.shot("collections-kv")

	// Queries: SQL, then C8QL with a bind parameter, and a plan.
	a.page("#/query")
	a.run("sql", chromedp.SetValue(chromedp.CSS(`#query-text`), "SELECT _key, a, b FROM people WHERE a > 1"), chromedp.Click(chromedp.CSS(`#query-run`)))
	a.wait("sql rows", `document.getElementById('query-result').textContent.includes('ann') && document.getElementById('query-lang').textContent === 'SQL'`)
	a.run("aql", chromedp.SetValue(chromedp.CSS(`#query-text`), "FOR p IN people FILTER p.b == @b RETURN {k: p._key, a: p.a}"),
		chromedp.SetValue(chromedp.CSS(`#query-binds`), `{"b": 2}`), chromedp.Click(chromedp.CSS(`#query-run`)))
	a.wait("aql rows", `document.getElementById('query-result').textContent.includes('ann') && document.getElementById('query-stats').textContent.startsWith('1 rows')`)
	a.run("save query", chromedp.SendKeys(chromedp.CSS(`#saved-name`), "by-b"), chromedp.Click(chromedp.CSS(`#saved-save`)))
	a.wait("saved query listed", `document.getElementById('page').textContent.includes('by-b') && !document.querySelector('[data-error="saved"]').textContent`)
	a.shot("query")
	a.run("bad query", chromedp.SetValue(chromedp.CSS(`#query-text`), "SELEKT nonsense"), chromedp.Click(chromedp.CSS(`#query-run`)))
	a.wait("query error", `document.querySelector('[data-error="query"]').textContent.startsWith('400')`)

	floodTail(t, a, key, us)

	// SPOT: create a collection homed here, run a transaction, see the leader.
	a.page("#/spot")
	a.wait("spot leader", `document.getElementById('page').textContent.includes('leader: replica 1')`)
	a.run("create spot collection", chromedp.SendKeys(chromedp.CSS(`#spot-name`), "ledger"), chromedp.Click(chromedp.CSS(`#spot-create`)))
	a.wait("spot collection listed", `!!document.querySelector('a[href="#/collections/ledger"]')`)
	a.run("transaction", chromedp.SetValue(chromedp.CSS(`#spot-tx`), `{"operations":[{"op":"insert","collection":"ledger","key":"x","doc":{"n":1}},
		{"op":"update","collection":"ledger","key":"x","doc":{"n":{"$inc":1}}}]}`), chromedp.Click(chromedp.CSS(`#spot-tx-run`)))
	a.wait("transaction applied", `document.getElementById('spot-tx-result').textContent.includes('applied at Raft index') &&
		document.getElementById('spot-tx-result').textContent.includes('"n": 2')`)
	// A failed precondition: the whole transaction is refused, with its error.
	a.run("refused transaction", chromedp.SetValue(chromedp.CSS(`#spot-tx`), `{"preconditions":[{"collection":"ledger","key":"x","path":["n"],"equals":7}],
		"operations":[{"op":"delete","collection":"ledger","key":"x"}]}`), chromedp.Click(chromedp.CSS(`#spot-tx-run`)))
	a.wait("precondition error", `document.querySelector('[data-error="spot-tx"]').textContent.startsWith('412')`)
	a.shot("spot")

	// A key made on the keys page, that may only read one stream; a grant
	// the API refuses shows its error there.
	a.page("#/keys")
	a.run("bad grant", chromedp.SendKeys(chromedp.CSS(`#key-perms`), "read:nonsense"), chromedp.Click(chromedp.CSS(`#key-create`)))
	a.wait("grant error", `document.querySelector('[data-error="key-create"]').textContent.startsWith('400')`)
	a.run("create key", chromedp.SetValue(chromedp.CSS(`#key-perms`), "read:stream/_system/console-e2e"),
		chromedp.SendKeys(chromedp.CSS(`#key-name`), "reader"), chromedp.Click(chromedp.CSS(`#key-create`)))
	a.wait("key shown once", `(document.getElementById('key-secret')||{textContent:''}).textContent.startsWith('cwk_')`)
	reader := value[string](a, "read the key", `document.getElementById('key-secret').textContent`)
	a.wait("key listed", `[...document.querySelectorAll('td input')].some((i) => i.value === 'read:stream/_system/console-e2e')`)
	a.shot("keys")

	a.page("#/metrics")
	a.wait("a chart drawn", `document.getElementById('chart-rate').width > 0`)
	time.Sleep(2500 * time.Millisecond) // two samples: the rates have a point
	a.shot("metrics")

	// The key that may only read one stream is offered nothing else.
	a.run("log out", chromedp.Click(chromedp.CSS(`#logout`)))
	a.login(reader)
	a.wait("admin pages hidden", `document.querySelector('a[data-page="keys"]').classList.contains('hidden') &&
		document.querySelector('a[data-page="metrics"]').classList.contains('hidden')`)
	a.page("#/streams/console-e2e")
	a.wait("no create form, no publish", `!document.getElementById('stream-create') && !document.getElementById('publish-send') &&
		document.getElementById('page').textContent.includes('cannot write')`)
	a.wait("the reader tails its stream, told why it lists none", `document.getElementById('tail-status').textContent.startsWith('live') &&
		document.getElementById('page').textContent.includes("Listing the fabric's streams needs read") && !!document.getElementById('streams-open')`)
	a.shot("streams-reader")
	a.page("#/query")
	a.wait("no query offered", `document.getElementById('page').textContent.includes('Queries need read') && !document.getElementById('query-run')`)

	// A lost connection shows, and goes once the node is back.
	b.page("#/streams/console-e2e")
	f.Stop("eu-west")
	b.wait("lost connection shown", `!document.getElementById('conn').classList.contains('hidden')`)
	b.shot("lost")
	f.Start("eu-west")
	b.wait("reconnected", `document.getElementById('conn').classList.contains('hidden')`)
	b.wait("tail live again", `document.getElementById('tail-status').textContent.startsWith('live')`)
	t.Logf("screenshots in %s", dir)
}

// floodTail publishes floodRate messages a second for floodFor to a
// local stream that the page tails, and checks the page keeps drawing
// frames (it samples and says so) and stays responsive.
func floodTail(t *testing.T, a *tab, key, url string) {
	const floodRate, floodFor, batch = 10000, 3 * time.Second, 100
	apiCall(t, key, "POST", url+"/_fabric/_system/_api/streams/console-flood?global=false", "")
	a.page("#/streams/console-flood")
	a.wait("flood tail live", `document.getElementById('tail-status').textContent.startsWith('live')`)
	a.eval(`(() => { window.maxGap = 0; let last = performance.now();
		const f = (t) => { window.maxGap = Math.max(window.maxGap, t - last); last = t; if (!window.stopGaps) requestAnimationFrame(f); };
		requestAnimationFrame(f); })()`)
	ws := "ws" + strings.TrimPrefix(url, "http") + "/ws/v2/producer/persistent/_mm/_system/console-flood"
	conn, _, err := websocket.DefaultDialer.Dial(ws, http.Header{"Authorization": {"Bearer " + key}})
	if err != nil {
		t.Fatalf("flood producer: %v", err)
	}
	defer conn.Close()
	acked := make(chan int, 1)
	go func() { // read the acks: one array per frame
		n := 0
		for {
			var acks []map[string]any
			if err := conn.ReadJSON(&acks); err != nil {
				acked <- n
				return
			}
			n += len(acks)
		}
	}()
	payload := base64.StdEncoding.EncodeToString([]byte(`{"n":1,"text":"flood"}`))
	msgs := make([]map[string]any, batch)
	for i := range msgs {
		msgs[i] = map[string]any{"payload": payload}
	}
	frame, err := json.Marshal(msgs) // encoded once: the test keeps up with the rate
	if err != nil {
		t.Fatal(err)
	}
	// The page answers while it tails: a probe every 250 ms.
	var rtts []time.Duration
	probeDone := make(chan struct{})
	stop := make(chan struct{})
	go func() {
		defer close(probeDone)
		for {
			select {
			case <-stop:
				return
			case <-time.After(250 * time.Millisecond):
			}
			t0 := time.Now()
			if _, err := chromedp.Run(a.ctx, chromedp.Evaluate[bool](`true`)); err == nil {
				rtts = append(rtts, time.Since(t0))
			}
		}
	}()
	start := time.Now()
	sent := 0
	for time.Since(start) < floodFor { // paced: catch up with floodRate
		for want := int(time.Since(start).Seconds() * floodRate); sent < want; sent += batch {
			if err := conn.WriteMessage(websocket.TextMessage, frame); err != nil {
				t.Fatalf("flood: %v", err)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	<-probeDone
	took := time.Since(start)
	a.wait("the tail says it samples", `document.getElementById('tail-status').textContent.includes('sampling')`)
	a.shot("streams-flood")
	a.wait("the tail got the flood", fmt.Sprintf(`+(document.getElementById('tail-status').textContent.match(/(\d+) received/)||[0,0])[1] >= %d`, sent*9/10))
	maxGap := value[float64](a, "frame gaps", `(() => { window.stopGaps = true; return window.maxGap; })()`)
	status := value[string](a, "tail status", `document.getElementById('tail-status').textContent`)
	slowest := time.Duration(0)
	if len(rtts) > 0 {
		slowest = slices.Max(rtts)
	}
	t.Logf("tail flood: %d msgs sent in %s (%.0f msgs/s); longest gap between frames %.0f ms; page answered in at most %s; tail: %s",
		sent, took.Round(time.Millisecond), float64(sent)/took.Seconds(), maxGap, slowest.Round(time.Millisecond), status)
	// A frozen page draws no frame and answers nothing for seconds; the
	// bounds leave room for a loaded 2-core machine running -race.
	if maxGap > 1500 || slowest > 5*time.Second {
		t.Errorf("the page froze under the flood: longest frame gap %.0f ms, slowest answer %s", maxGap, slowest)
	}
	_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	select {
	case <-acked:
	case <-time.After(5 * time.Second):
	}
}
