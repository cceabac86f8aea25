package console_test

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/internal/testfabric"
	"github.com/causeway/causeway/server"
)

// TestFabricGraphInChromium opens us-east's fabric page in a fabric of
// three regions and checks the graph's edge between the two others
// (eu-west and ap-south, seen from us-east): caught up, it reads 0 ops
// both ways; with ap-south cut off from both, ops written in eu-west (and
// replicated to us-east) show as ap-south's lag on that edge and in the
// matrix, marked stale (as ap-south last advertised it), while us-east's own edge to ap-south shows cut; healed, the
// edge goes back to 0 without reloading the page.
func TestFabricGraphInChromium(t *testing.T) {
	exe := chromium(t)
	dir := artifacts(t)
	start := time.Now()
	_, key, err := auth.NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	on := true
	f := testfabric.New(t, []string{"us-east", "eu-west", "ap-south"}, func(c *broker.Config) {
		c.Auth.Enabled, c.Auth.AdminKey = &on, key
		c.Auth.JWTSecret = "console-graph-test-jwt-secret-0123456789"
	})
	f.Options["us-east"] = server.Options{Console: true}
	f.StartAll()
	us, eu := f.Server("us-east").URL(), f.Server("eu-west").URL()

	actx, cancel := browserAllocator(t, exe, chromedp.WindowSize(1280, 1000), chromedp.Flag("disable-dev-shm-usage", true))
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	a := &tab{t: t, ctx: bctx, name: "graph-us-east", dir: dir}
	a.run("open us-east", chromedp.Navigate(us+"/console/"))
	a.login(key)
	a.page("#/fabric")

	// label reads the edge between eu-west and ap-south, as us-east sees it.
	const edge = `document.querySelector('[data-edge="ap-south|eu-west"]')`
	lagIs := func(from, to, want string) string {
		return fmt.Sprintf(`[...%s.querySelectorAll('tspan')].some((t) => t.textContent === '%s→%s: %s') &&
			document.querySelector('[data-lag="%s|%s"]').textContent === '%s'`, edge, from, to, want+" ops", from, to, want)
	}
	a.wait("the other regions' edge, caught up", edge+`.dataset.state === 'unknown' && `+lagIs("eu-west", "ap-south", "0")+` && `+
		lagIs("ap-south", "eu-west", "0")+` && document.querySelector('[data-legend]').textContent.includes('link state is unknown here')`)
	a.shot("graph")

	// ap-south cut off; eu-west writes n documents, which reach us-east.
	f.Cut("ap-south", "us-east", true)
	f.Cut("ap-south", "eu-west", true)
	const n = 5
	apiCall(t, key, "POST", eu+"/_fabric/_system/_api/collection", `{"name":"graph"}`)
	for i := range n {
		apiCall(t, key, "POST", eu+"/_fabric/_system/_api/document/graph", fmt.Sprintf(`{"_key":"d%d"}`, i))
	}
	eventually(t, 15*time.Second, "the documents in us-east", func() bool {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/_fabric/_system/_api/document/graph/d%d", us, n-1), nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	a.wait("ap-south's lag of eu-west's ops", fmt.Sprintf(`(() => {
		const m = %s.textContent.match(/eu-west→ap-south: (\d+) ops \(stale\)/);
		return m && +m[1] >= %d && document.querySelector('[data-lag="eu-west|ap-south"]').textContent === m[1] + '*' &&
			document.querySelector('[data-edge="ap-south|us-east"]').dataset.state === 'cut'; })()`, edge, n))
	shown := strings.TrimSuffix(value[string](a, "read the lag", `document.querySelector('[data-lag="eu-west|ap-south"]').textContent`), "*")
	if v, err := strconv.Atoi(shown); err != nil || v < n {
		t.Fatalf("eu-west→ap-south shows %q ops, want at least %d", shown, n)
	}
	a.shot("graph-cut")

	// Healed: ap-south catches up and the page, refreshed live, says so.
	f.Cut("ap-south", "us-east", false)
	f.Cut("ap-south", "eu-west", false)
	a.wait("caught up after the heal", lagIs("eu-west", "ap-south", "0")+
		` && document.querySelector('[data-edge="ap-south|us-east"]').dataset.state === 'up'`)
	t.Logf("eu-west→ap-south showed %s ops while cut (%d documents written); the test took %s", shown, n, time.Since(start).Round(time.Millisecond))
}
