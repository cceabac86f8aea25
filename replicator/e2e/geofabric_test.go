package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
)

// httpDo sends a request with a JSON body to a region's node and returns
// the status and body.
func (f *fabric) httpDo(region, method, path, body string) (int, string) {
	f.T.Helper()
	req, err := http.NewRequest(method, f.Server(region).URL()+path, strings.NewReader(body))
	if err != nil {
		f.T.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// dirHolds reports the files under dir that contain marker.
func dirHolds(t *testing.T, dir string, marker []byte) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if bytes.Contains(b, marker) {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestPinnedFabricStaysInItsRegions: a fabric created with regions a and b
// of a, b, c is known everywhere (c answers 421 naming a and b); its
// streams replicate between a and b in both directions, while nothing of
// them reaches c (its whole data directory is searched for the payloads'
// markers); the _system fabric still spans the three.
func TestPinnedFabricStaysInItsRegions(t *testing.T) {
	f := newFabric(t, []string{"a", "b", "c"}, nil)

	for _, tc := range []struct{ body, want string }{
		{`{"regions":["a","mars"]}`, "unknown region"},
		{`{"regions":[]}`, "empty"},
		{`{"regions":"a,b","options":{"dcList":"a"}}`, "both given"},
		{`{"region":["a"]}`, "unknown field"},
	} {
		if code, body := f.httpDo("a", "POST", "/_fabric/bad/_api/fabric", tc.body); code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Fatalf("create with %s: %d %s, want 400 with %q", tc.body, code, body, tc.want)
		}
	}
	code, body := f.httpDo("a", "POST", "/_fabric/eu/_api/fabric", `{"options":{"dcList":"b,a"}}`)
	if code != http.StatusCreated {
		t.Fatalf("create eu: %d %s", code, body)
	}
	var created struct{ Result broker.FabricInfo }
	err := json.Unmarshal([]byte(body), &created)
	if fi := created.Result; err != nil || !fi.Pinned || strings.Join(fi.Regions, ",") != "a,b" || fi.Home != "a" {
		t.Fatalf("created %s (%v)", body, err)
	}

	// Every region learns the list; c refuses the fabric.
	deadline := time.Now().Add(waitTimeout)
	for {
		code, body := f.httpDo("c", "GET", "/_fabric/eu/_api/fabric", "")
		if code == http.StatusMisdirectedRequest {
			if !strings.Contains(body, "a, b") {
				t.Fatalf("c's refusal does not name the regions: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("c still answers %d %s for the pinned fabric", code, body)
		}
		time.Sleep(pollInterval)
	}
	wsURL := "ws://" + f.Server("c").Addr() + "/ws/v2/producer/persistent/" + naming.DefaultTenant + "/eu/orders"
	if conn, resp, err := websocket.DefaultDialer.Dial(wsURL, nil); err == nil || resp == nil || resp.StatusCode != http.StatusMisdirectedRequest {
		if conn != nil {
			conn.Close()
		}
		t.Fatalf("WebSocket producer of eu at c: %v %+v, want a 421 handshake", err, resp)
	}
	eu := func(name string) naming.Stream {
		return naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: "eu", Name: name}
	}
	if _, err := f.node("c").StreamForUse(eu("orders"), nil); !errors.Is(err, broker.ErrFabricElsewhere) {
		t.Fatalf("c opened a stream of eu: %v", err)
	}

	markers := map[string][]byte{}
	publish := func(region, producer string, n int) {
		t.Helper()
		var s *broker.Stream
		var err error
		for deadline := time.Now().Add(waitTimeout); ; time.Sleep(pollInterval) {
			if s, err = f.node(region).StreamForUse(eu("orders"), nil); err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			t.Fatalf("%s: open eu/orders: %v", region, err)
		}
		p, err := s.AttachProducer(producer, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		marker := []byte(fmt.Sprintf("EU-ONLY-%s-%d-%x", producer, time.Now().UnixNano(), time.Now().UnixNano()*7919))
		markers[producer] = marker
		var msgs []broker.Message
		for i := range n {
			msgs = append(msgs, broker.Message{Payload: append(bytes.Clone(marker), fmt.Sprintf(":%d", i)...), SequenceID: int64(i + 1)})
		}
		for i, r := range p.Publish(msgs) {
			if r.Err != nil || r.Duplicate {
				t.Fatalf("%s publish %d: %+v", region, i, r)
			}
		}
	}
	publish("a", "from-a", 200)
	publish("b", "from-b", 150)
	for _, r := range []string{"a", "b"} {
		deadline := time.Now().Add(waitTimeout)
		for {
			s, err := f.node(r).Stream(eu("orders"))
			if err == nil && s.Backlog() == 350 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: eu/orders did not reach 350 records (%v)\n%s", r, err, f.statusDump())
			}
			time.Sleep(pollInterval)
		}
	}
	// b restarts and catches up with what a published meanwhile: the
	// domain's shell restarts from its own journals.
	f.Stop("b")
	publish("a", "from-a-2", 100)
	f.Start("b")
	for _, r := range []string{"a", "b"} {
		deadline := time.Now().Add(waitTimeout)
		for {
			s, err := f.node(r).Stream(eu("orders"))
			if err == nil && s.Backlog() == 450 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: eu/orders did not reach 450 records after b's restart (%v)\n%s", r, err, f.statusDump())
			}
			time.Sleep(pollInterval)
		}
	}
	var domains struct {
		Domains []struct {
			Domain  string
			Regions []string
		}
		Fabrics       []broker.FabricInfo
		RefusedFrames uint64
	}
	for _, r := range []string{"a", "c"} {
		code, body := f.httpDo(r, "GET", "/_api/replication/domains", "")
		if err := json.Unmarshal([]byte(body), &domains); code != http.StatusOK || err != nil {
			t.Fatalf("%s: domains: %d %s (%v)", r, code, body, err)
		}
		want := 1
		if r == "c" {
			want = 0
		}
		if len(domains.Domains) != want || len(domains.Fabrics) != 1 || domains.RefusedFrames != 0 ||
			(want == 1 && domains.Domains[0].Domain != "_mm~eu~v1~a,b") {
			t.Fatalf("%s: domains %s", r, body)
		}
	}

	// The _system fabric still spans every region.
	f.publish("c", "everywhere", "sys", 1, 20)
	f.waitCount("everywhere", 20)

	for producer, marker := range markers {
		for _, r := range []string{"a", "b"} {
			if len(dirHolds(t, f.Configs[r].DataDir, marker)) == 0 {
				t.Fatalf("%s's data directory does not hold %s's marker: the search cannot see stream data", r, producer)
			}
		}
		if found := dirHolds(t, f.Configs["c"].DataDir, marker); len(found) > 0 {
			t.Fatalf("c, outside eu's regions, holds %s's payloads in %v", producer, found)
		}
	}
	// An administrator anywhere may create a pinned fabric (c could have
	// created eu); once it exists, c answers 421 to anything of it.
	for _, path := range []string{"/_fabric/eu/_api/fabric", "/_fabric/eu/_api/collection", "/_fabric/eu/_api/spot/collection",
		"/_fabric/eu/_api/streams/orders", "/_db/eu/_api/document/docs"} {
		if code, body := f.httpDo("c", "POST", path, `{"regions":["a","b"],"name":"x"}`); code != http.StatusMisdirectedRequest ||
			!strings.Contains(body, "a, b") {
			t.Fatalf("POST %s at c: %d %s, want 421 naming a and b", path, code, body)
		}
	}
	if code, body := f.httpDo("b", "POST", "/_fabric/eu/_api/fabric", `{"regions":["a","b","c"]}`); code != http.StatusConflict {
		t.Fatalf("create eu at b with another list: %d %s, want 409", code, body)
	}
}

// TestPinnedFabricCollections: a collection of a fabric pinned to a and b
// takes writes in both, converges in both, and nothing of it reaches c.
func TestPinnedFabricCollections(t *testing.T) {
	f := newFabric(t, []string{"a", "b", "c"}, nil)
	if code, body := f.httpDo("b", "POST", "/_fabric/eu/_api/fabric", `{"regions":["a","b"]}`); code != http.StatusCreated {
		t.Fatalf("create eu: %d %s", code, body)
	}
	// retry sends until the answer is want (or 201/202 for a write that
	// wants either).
	retry := func(region, method, path, body string, want int) string {
		t.Helper()
		deadline := time.Now().Add(waitTimeout)
		for {
			code, out := f.httpDo(region, method, path, body)
			if code == want || (want == http.StatusAccepted && code == http.StatusCreated) {
				return out
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s %s at %s: %d %s, want %d", method, path, region, code, out, want)
			}
			time.Sleep(pollInterval)
		}
	}
	retry("a", "POST", "/_fabric/eu/_api/collection", `{"name":"docs"}`, http.StatusOK)
	marker := fmt.Sprintf("EU-DOC-%x", time.Now().UnixNano()*104729)
	const perRegion = 40
	for _, r := range []string{"a", "b"} {
		for i := range perRegion {
			doc := fmt.Sprintf(`{"_key":"%s-%d","v":"%s-%s-%d"}`, r, i, marker, r, i)
			retry(r, "POST", "/_fabric/eu/_api/document/docs", doc, http.StatusAccepted)
		}
	}
	// Both regions converge on every document.
	for _, r := range []string{"a", "b"} {
		deadline := time.Now().Add(waitTimeout)
		for {
			_, body := f.httpDo(r, "GET", "/_fabric/eu/_api/collection/docs/count", "")
			var c struct{ Count int }
			if json.Unmarshal([]byte(body), &c) == nil && c.Count == 2*perRegion {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: docs count %s, want %d", r, body, 2*perRegion)
			}
			time.Sleep(pollInterval)
		}
		if code, body := f.httpDo(r, "GET", "/_fabric/eu/_api/document/docs/a-7", ""); code != http.StatusOK || !strings.Contains(body, marker+"-a-7") {
			t.Fatalf("%s: document a-7: %d %s", r, code, body)
		}
	}
	// A document changed in b is seen changed in a (the merged result).
	retry("b", "PATCH", "/_fabric/eu/_api/document/docs/a-3", `{"w":"patched-in-b"}`, http.StatusAccepted)
	out := retry("a", "GET", "/_fabric/eu/_api/document/docs/a-3", "", http.StatusOK)
	for deadline := time.Now().Add(waitTimeout); !strings.Contains(out, "patched-in-b"); time.Sleep(pollInterval) {
		if time.Now().After(deadline) {
			t.Fatalf("a: a-3 is %s, want b's patch merged", out)
		}
		_, out = f.httpDo("a", "GET", "/_fabric/eu/_api/document/docs/a-3", "")
	}
	if code, body := f.httpDo("c", "GET", "/_fabric/eu/_api/collection/docs/count", ""); code != http.StatusMisdirectedRequest {
		t.Fatalf("c: %d %s, want 421", code, body)
	}
	for _, r := range []string{"a", "b"} {
		if len(dirHolds(t, f.Configs[r].DataDir, []byte(marker))) == 0 {
			t.Fatalf("%s's data directory does not hold the documents' marker: the search cannot see them", r)
		}
	}
	if found := dirHolds(t, f.Configs["c"].DataDir, []byte(marker)); len(found) > 0 {
		t.Fatalf("c, outside eu's regions, holds its documents in %v", found)
	}
	// A region bootstrapping from a's snapshot gets eu's collections only
	// when it is among eu's regions.
	for _, tc := range []struct {
		query string
		holds bool
	}{{"?region=b", true}, {"?region=c", false}, {"", false}} {
		code, body := f.httpDo("a", "GET", "/_api/collections/snapshot"+tc.query, "")
		if code != http.StatusOK || strings.Contains(body, marker) != tc.holds {
			t.Errorf("a's snapshot%s: %d, holds eu's documents %v, want %v", tc.query, code, strings.Contains(body, marker), tc.holds)
		}
	}
	if code, body := f.httpDo("a", "GET", "/_api/collections/snapshot?region=no%20such", ""); code != http.StatusBadRequest {
		t.Errorf("a's snapshot for a bad region name: %d %s, want 400", code, body)
	}
}

// TestPinnedFabricCreatedWhileAMemberIsDown: eu is created on a and b
// while b is down; a takes writes (its new domain joins without b once
// the join timeout passes), and b, started later, learns the fabric and
// gets every message.
func TestPinnedFabricCreatedWhileAMemberIsDown(t *testing.T) {
	f := newFabric(t, []string{"a", "b", "c"}, func(c *broker.Config) { c.JoinTimeout = time.Second }, "b")
	if code, body := f.httpDo("a", "POST", "/_fabric/eu/_api/fabric", `{"regions":["a","b"]}`); code != http.StatusCreated {
		t.Fatalf("create eu with b down: %d %s", code, body)
	}
	name := naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: "eu", Name: "orders"}
	s, err := f.node("a").StreamForUse(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.AttachProducer("early", -1)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []broker.Message
	for i := range 50 {
		msgs = append(msgs, broker.Message{Payload: []byte(fmt.Sprintf("early:%d", i)), SequenceID: int64(i + 1)})
	}
	for i, r := range p.Publish(msgs) {
		if r.Err != nil || r.Duplicate {
			t.Fatalf("publish %d with b down: %+v", i, r)
		}
	}
	p.Close()
	f.Start("b")
	deadline := time.Now().Add(waitTimeout)
	for {
		got, err := f.node("b").Stream(name)
		if err == nil && got.Backlog() == 50 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("b: eu/orders did not reach 50 records after its start (%v)\n%s", err, f.statusDump())
		}
		time.Sleep(pollInterval)
	}
	if fi, ok := f.node("b").Fabric(naming.DefaultTenant, "eu"); !ok || !fi.Pinned || strings.Join(fi.Regions, ",") != "a,b" {
		t.Fatalf("b recorded eu as %+v (%v)", fi, ok)
	}
	if code, _ := f.httpDo("c", "GET", "/_fabric/eu/_api/fabric", ""); code != http.StatusMisdirectedRequest {
		t.Fatalf("c: %d, want 421", code)
	}
}

// TestPinnedFabricCollectionsBesideSystemOnes: collection ops of the node's
// domain (every region's) and of a pinned fabric's domain number their
// origins separately; a region that applied more of a peer's ops in one
// must not take the other's as already applied.
func TestPinnedFabricCollectionsBesideSystemOnes(t *testing.T) {
	f := newFabric(t, []string{"a", "b", "c"}, nil)
	if code, body := f.httpDo("a", "POST", "/_fabric/eu/_api/fabric", `{"regions":["a","b"]}`); code != http.StatusCreated {
		t.Fatalf("create eu: %d %s", code, body)
	}
	waitCode := func(region, method, path, body string, want ...int) {
		t.Helper()
		deadline := time.Now().Add(waitTimeout)
		for {
			code, out := f.httpDo(region, method, path, body)
			if slices.Contains(want, code) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s %s at %s: %d %s, want %v", method, path, region, code, out, want)
			}
			time.Sleep(pollInterval)
		}
	}
	waitCount := func(region, fabricName, coll string, want int) {
		t.Helper()
		deadline := time.Now().Add(waitTimeout)
		for {
			_, body := f.httpDo(region, "GET", "/_fabric/"+fabricName+"/_api/collection/"+coll+"/count", "")
			var c struct{ Count int }
			if json.Unmarshal([]byte(body), &c) == nil && c.Count == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s/%s count %s, want %d", region, fabricName, coll, body, want)
			}
			time.Sleep(pollInterval)
		}
	}
	waitCode("a", "POST", "/_fabric/_system/_api/collection", `{"name":"every"}`, http.StatusOK)
	const inSystem, inEU = 60, 20
	// One shipped payload per write: the node's domain numbers a's ops
	// far past the fabric's.
	for i := range inSystem {
		waitCode("a", "POST", "/_fabric/_system/_api/document/every", fmt.Sprintf(`{"_key":"s%d"}`, i), http.StatusAccepted, http.StatusCreated)
		waitCount("b", "_system", "every", i+1)
	}
	waitCode("a", "POST", "/_fabric/eu/_api/collection", `{"name":"docs"}`, http.StatusOK)
	for i := range inEU {
		waitCode("a", "POST", "/_fabric/eu/_api/document/docs", fmt.Sprintf(`{"_key":"e%d"}`, i), http.StatusAccepted, http.StatusCreated)
	}
	waitCount("a", "eu", "docs", inEU)
	waitCount("b", "eu", "docs", inEU)
}
