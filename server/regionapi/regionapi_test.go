package regionapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/causeway/causeway/region"
)

const secret = "regionapi-test-secret-0123"

// group is a scripted metadata group: a test double of meta.Group for the
// handler alone (the server tests run the real one).
type group struct {
	self    region.Member
	leading bool
	state   *region.State
	err     error
}

func (g *group) State(context.Context) (*region.State, error) { return g.state, g.err }
func (g *group) Leading() bool                                { return g.leading }
func (g *group) Self() region.Member                          { return g.self }

// node serves one scripted node's LeaderPath.
func node(t *testing.T, g *group) *httptest.Server {
	t.Helper()
	h := New("r", secret, g, zap.NewNop())
	srv := httptest.NewServer(http.HandlerFunc(h.ServeLeader))
	t.Cleanup(srv.Close)
	return srv
}

func state(urls map[region.NodeID]string) *region.State {
	st := region.NewState()
	for id, u := range urls {
		st.Nodes[id] = &region.Node{ID: id, Incarnation: 100 + uint64(id), Status: region.NodeActive, Addrs: region.Addrs{HTTP: u}}
	}
	return st
}

func TestNewViewIsSortedAndOwnsItsData(t *testing.T) {
	st := state(map[region.NodeID]string{3: "c", 1: "a", 2: "b"})
	st.Nodes[2].Status = region.NodeFenced
	st.Units["stream:t/f/z"] = &region.Unit{ID: "stream:t/f/z", Factor: 3, Replicas: []region.NodeID{2, 1, 3}, Leader: 1, Epoch: 2,
		InSync: []region.Member{{Node: 1, Incarnation: 101}}}
	st.Units["journal:t/f"] = &region.Unit{ID: "journal:t/f", Factor: 1, Replicas: []region.NodeID{3}, Leader: 3, Epoch: 1,
		InSync: []region.Member{{Node: 3, Incarnation: 103}}}
	st.Applied = 42
	v := NewView("r", 2, 3, st)
	if v.Region != "r" || v.Node != 2 || v.MetaLeader != 3 || v.Applied != 42 || len(v.Nodes) != 3 || len(v.Units) != 2 {
		t.Fatalf("%+v", v)
	}
	if v.Nodes[0].ID != 1 || v.Nodes[2].ID != 3 || v.Nodes[1].Status != "fenced" || v.Units[0].ID != "journal:t/f" {
		t.Fatalf("not sorted: %+v", v)
	}
	st.Units["stream:t/f/z"].Replicas[0] = 9
	st.Units["stream:t/f/z"].InSync[0].Node = 9
	if v.Units[1].Replicas[0] != 2 || v.Units[1].InSync[0].Node != 1 {
		t.Fatal("the view shares the state's slices")
	}
	if n, ok := v.NodeByID(3); !ok || n.Addrs.HTTP != "c" {
		t.Fatalf("NodeByID: %+v %v", n, ok)
	}
	if _, ok := v.NodeByID(7); ok {
		t.Fatal("NodeByID found a node the view lacks")
	}
}

func TestServeLeaderWantsTheSecret(t *testing.T) {
	srv := node(t, &group{self: region.Member{Node: 2, Incarnation: 102}, leading: true})
	for _, c := range []struct {
		name, sig, body string
		want            int
	}{
		{"unsigned", "", "", http.StatusUnauthorized},
		{"other secret", region.Sign("another-secret-0123456", http.MethodGet, LeaderPath, nil), "", http.StatusUnauthorized},
		{"other path", region.Sign(secret, http.MethodGet, "/_api/region", nil), "", http.StatusUnauthorized},
		{"too large", sign(secret, http.MethodGet, LeaderPath, nil), strings.Repeat("x", maxSmallBody+1), http.StatusRequestEntityTooLarge},
		{"signed", sign(secret, http.MethodGet, LeaderPath, nil), "", http.StatusOK},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+LeaderPath, strings.NewReader(c.body))
		if c.sig != "" {
			req.Header.Set(region.AuthHeader, c.sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var a leaderAnswer
		_ = json.NewDecoder(resp.Body).Decode(&a)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Fatalf("%s: %d, want %d", c.name, resp.StatusCode, c.want)
		}
		if c.want == http.StatusOK && (a != leaderAnswer{Node: 2, Incarnation: 102, Leading: true}) {
			t.Fatalf("%s: %+v", c.name, a)
		}
	}
}

// TestServeStateFindsTheLeader: the node that answers names the group's
// leader: itself, or the peer that says it leads in the life the region
// knows (a peer in another life, or one that does not answer, is not it).
func TestServeStateFindsTheLeader(t *testing.T) {
	follower := node(t, &group{self: region.Member{Node: 2, Incarnation: 102}})
	leader := node(t, &group{self: region.Member{Node: 3, Incarnation: 103}, leading: true})
	stale := node(t, &group{self: region.Member{Node: 4, Incarnation: 999}, leading: true})
	st := state(map[region.NodeID]string{1: "http://127.0.0.1:1", 2: follower.URL, 3: leader.URL, 4: stale.URL, 5: "http://127.0.0.1:1"})
	view := func(g *group) (int, View) {
		rec := httptest.NewRecorder()
		New("r", secret, g, zap.NewNop()).ServeState(rec, httptest.NewRequest(http.MethodGet, StatePath, nil))
		var out struct {
			Result       View   `json:"result"`
			ErrorMessage string `json:"errorMessage"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		return rec.Code, out.Result
	}
	if code, v := view(&group{self: region.Member{Node: 1, Incarnation: 101}, state: st}); code != http.StatusOK || v.MetaLeader != 3 || v.Node != 1 || len(v.Nodes) != 5 {
		t.Fatalf("%d %+v", code, v)
	}
	if _, v := view(&group{self: region.Member{Node: 1, Incarnation: 101}, state: st, leading: true}); v.MetaLeader != 1 {
		t.Fatalf("a leading node names %d", v.MetaLeader)
	}
	delete(st.Nodes, 3)
	if _, v := view(&group{self: region.Member{Node: 1, Incarnation: 101}, state: st}); v.MetaLeader != 0 {
		t.Fatalf("no live leader, yet %d is named (a stale life claims it)", v.MetaLeader)
	}
	if code, _ := view(&group{self: region.Member{Node: 1}, err: errors.New("no quorum")}); code != http.StatusServiceUnavailable {
		t.Fatalf("no quorum: %d, want 503", code)
	}
}
