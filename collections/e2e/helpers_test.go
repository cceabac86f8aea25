package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/internal/testfabric"
)

// waitTimeout bounds every wait on a condition; pollInterval is how often
// a condition over HTTP is checked again.
const (
	waitTimeout  = 60 * time.Second
	pollInterval = 10 * time.Millisecond
)

// fabric is one in-process node per region, wired full mesh.
type fabric struct {
	*testfabric.Fabric
}

// newFabric starts one node per region, except the regions in skip.
func newFabric(t testing.TB, regions []string, skip ...string) *fabric {
	t.Helper()
	f := &fabric{testfabric.New(t, regions, nil)}
	f.StartAll(skip...)
	return f
}

// answer is an HTTP answer: status and the decoded JSON body.
type answer struct {
	status int
	raw    []byte
	body   map[string]any
	list   []any
}

func (f *fabric) do(region, method, path string, body any) answer {
	f.T.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			f.T.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.Server(region).URL()+path, rd)
	if err != nil {
		f.T.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.T.Fatalf("%s %s %s: %v", region, method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		f.T.Fatal(err)
	}
	a := answer{status: resp.StatusCode, raw: raw}
	if len(raw) > 0 {
		var v any
		if err := json.Unmarshal(raw, &v); err == nil {
			switch x := v.(type) {
			case map[string]any:
				a.body = x
			case []any:
				a.list = x
			}
		}
	}
	return a
}

// must calls do and fails unless the status is want.
func (f *fabric) must(want int, region, method, path string, body any) answer {
	f.T.Helper()
	a := f.do(region, method, path, body)
	if a.status != want {
		f.T.Fatalf("%s %s %s: status %d, want %d: %s", region, method, path, a.status, want, a.raw)
	}
	return a
}

// eventually waits until cond holds, checking it every pollInterval, and
// fails after waitTimeout with what describe says.
func (f *fabric) eventually(what string, cond func() bool) {
	f.T.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			f.T.Fatalf("after %s: %s", waitTimeout, what)
		}
		time.Sleep(pollInterval)
	}
}

const sys = "/_fabric/_system/_api/"

// doc returns a document's JSON in region (nil when it is absent).
func (f *fabric) doc(region, collection, key string) map[string]any {
	f.T.Helper()
	a := f.do(region, "GET", sys+"document/"+collection+"/"+key, nil)
	if a.status == http.StatusNotFound {
		return nil
	}
	if a.status != http.StatusOK {
		f.T.Fatalf("%s: GET %s/%s: %d %s", region, collection, key, a.status, a.raw)
	}
	return a.body
}

// sameEverywhere waits until the document has one _rev in every running
// region and returns it as region 0 shows it (nil: absent everywhere).
func (f *fabric) sameEverywhere(collection, key string, regions ...string) map[string]any {
	f.T.Helper()
	var out map[string]any
	f.eventually(fmt.Sprintf("%s/%s converges in %v", collection, key, regions), func() bool {
		var revs []any
		for _, r := range regions {
			d := f.doc(r, collection, key)
			if d == nil {
				revs = append(revs, nil)
			} else {
				revs = append(revs, d["_rev"])
			}
			if r == regions[0] {
				out = d
			}
		}
		for _, x := range revs[1:] {
			if x != revs[0] {
				return false
			}
		}
		return true
	})
	return out
}

var _ = service.SnapshotPath
