package kafka

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

var t0 = time.Unix(1000, 0)

func joinIn(id, newID string) joinInput {
	return joinInput{memberID: id, newID: newID, clientID: "c", protocolType: "consumer",
		protocols:      []protocol{{name: "range", metadata: []byte(newID)}},
		sessionTimeout: 10 * time.Second, rebalanceTimeout: 30 * time.Second, requireKnownID: true}
}

func testGroup() *group { return newGroup("g", 0, time.Second, time.Minute) }

// joinFully runs the MEMBER_ID_REQUIRED round trip and the held join.
func joinFully(t *testing.T, g *group, now time.Time, id string) groupOutputs {
	t.Helper()
	r, _ := g.join(now, joinIn("", id))
	if r == nil || r.code != kerr.MemberIDRequired.Code || r.memberID != id {
		t.Fatalf("first join: %+v", r)
	}
	r, outs := g.join(now, joinIn(id, ""))
	if r != nil {
		t.Fatalf("second join answered at once: %+v", r)
	}
	return outs
}

func TestGroupLifecycle(t *testing.T) {
	g := testGroup()
	outs := joinFully(t, g, t0, "a")
	if len(outs.joins) != 1 || outs.joins[0].leader != "a" || outs.joins[0].generation != 1 || len(outs.joins[0].members) != 1 {
		t.Fatalf("single member join: %+v", outs)
	}
	if r, outs := g.sync(t0, "a", 1, map[string][]byte{"a": []byte("all")}); r != nil || len(outs.syncs) != 1 || string(outs.syncs[0].assignment) != "all" {
		t.Fatalf("leader sync: %+v %+v", r, outs)
	}
	if g.state != groupStable {
		t.Fatalf("state %v", g.state)
	}
	// b joins: a is told to rejoin by its heartbeat; b's join is held.
	if outs := joinFully(t, g, t0, "b"); len(outs.joins) != 0 {
		t.Fatalf("b's join completed before a rejoined: %+v", outs)
	}
	if code := g.heartbeat(t0, "a", 1); code != kerr.RebalanceInProgress.Code {
		t.Fatalf("heartbeat during rebalance: %d", code)
	}
	_, outs = g.join(t0, joinIn("a", ""))
	if len(outs.joins) != 2 {
		t.Fatalf("rejoin completes the rebalance for both: %+v", outs)
	}
	for _, j := range outs.joins {
		if j.generation != 2 || j.leader != "a" || (j.memberID == "a") != (len(j.members) == 2) {
			t.Fatalf("join result %+v", j)
		}
	}
	// The follower's sync waits for the leader's.
	if r, outs := g.sync(t0, "b", 2, nil); r != nil || len(outs.syncs) != 0 {
		t.Fatalf("follower sync answered early: %+v %+v", r, outs)
	}
	if code := g.commitAllowed("a", 2); code != kerr.RebalanceInProgress.Code {
		t.Fatalf("commit while completing: %d", code)
	}
	_, outs = g.sync(t0, "a", 2, map[string][]byte{"a": []byte("p0"), "b": []byte("p1")})
	if len(outs.syncs) != 2 {
		t.Fatalf("leader sync answers both: %+v", outs)
	}
	if code := g.commitAllowed("b", 2); code != 0 {
		t.Fatalf("commit in stable: %d", code)
	}
	if code := g.commitAllowed("b", 1); code != kerr.IllegalGeneration.Code {
		t.Fatalf("commit of an old generation: %d", code)
	}
	// b leaves: a rejoins alone and gets generation 3.
	if code, _ := g.leave(t0, "b"); code != 0 {
		t.Fatalf("leave: %d", code)
	}
	_, outs = g.join(t0, joinIn("a", ""))
	if len(outs.joins) != 1 || outs.joins[0].generation != 3 {
		t.Fatalf("after leave: %+v", outs)
	}
	// a's session expires: the group empties.
	g.sync(t0, "a", 3, nil)
	outs = g.tick(t0.Add(11 * time.Second))
	if g.state != groupEmpty || len(g.members) != 0 || !g.idle() {
		t.Fatalf("after expiry: state %v members %d", g.state, len(g.members))
	}
}

func TestGroupRefusals(t *testing.T) {
	g := testGroup()
	if r, _ := g.join(t0, joinIn("ghost", "")); r == nil || r.code != kerr.UnknownMemberID.Code {
		t.Fatalf("unknown member id: %+v", r)
	}
	in := joinIn("", "x")
	in.sessionTimeout = time.Hour
	if r, _ := g.join(t0, in); r == nil || r.code != kerr.InvalidSessionTimeout.Code {
		t.Fatalf("session timeout: %+v", r)
	}
	joinFully(t, g, t0, "a")
	in = joinIn("", "y")
	in.protocols = []protocol{{name: "other"}}
	if r, _ := g.join(t0, in); r == nil || r.code != kerr.InconsistentGroupProtocol.Code {
		t.Fatalf("inconsistent protocol: %+v", r)
	}
	if r, _ := g.sync(t0, "a", 7, nil); r == nil || r.code != kerr.IllegalGeneration.Code {
		t.Fatalf("sync of a wrong generation: %+v", r)
	}
	if code := g.heartbeat(t0, "zzz", 1); code != kerr.UnknownMemberID.Code {
		t.Fatalf("heartbeat of a stranger: %d", code)
	}
	// A member that never rejoins is dropped when the rebalance times out.
	g.sync(t0, "a", 1, nil)
	joinFully(t, g, t0, "b")
	outs := g.tick(t0.Add(31 * time.Second))
	if len(outs.joins) != 1 || outs.joins[0].memberID != "b" || g.members["a"] != nil {
		t.Fatalf("rebalance timeout: %+v, members %d", outs, len(g.members))
	}
}

// A seeded random walk of joins, syncs, heartbeats, leaves and ticks keeps
// the group's invariants: every held join is answered exactly once per
// rebalance, generations never go back, a stable group's members all
// belong to its generation.
func TestGroupRandomWalk(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	g := testGroup()
	now := t0
	held := map[string]bool{} // members with a held join
	gen := int32(0)
	next := 0
	for step := range 5000 {
		now = now.Add(time.Duration(rng.IntN(2000)) * time.Millisecond)
		var outs groupOutputs
		ids := make([]string, 0, len(g.members))
		for id := range g.members {
			ids = append(ids, id)
		}
		pick := func() string {
			if len(ids) == 0 {
				return "none"
			}
			return ids[rng.IntN(len(ids))]
		}
		switch rng.IntN(6) {
		case 0:
			if len(g.members) < 8 {
				next++
				id := fmt.Sprint("m", next)
				g.join(now, joinIn("", id))
				var r *joinResult
				r, outs = g.join(now, joinIn(id, ""))
				if r == nil {
					held[id] = true
				}
			}
		case 1:
			id := pick()
			var r *joinResult
			r, outs = g.join(now, joinIn(id, ""))
			if r == nil {
				held[id] = true
			}
		case 2:
			id := pick()
			_, outs = g.sync(now, id, g.generation, map[string][]byte{})
		case 3:
			g.heartbeat(now, pick(), g.generation)
		case 4:
			id := pick()
			_, outs = g.leave(now, id)
		case 5:
			outs = g.tick(now)
		}
		for _, j := range outs.joins {
			if !held[j.memberID] {
				t.Fatalf("step %d (seed %d): join answered for %s, which had none held", step, seed, j.memberID)
			}
			delete(held, j.memberID)
			if j.code == 0 && j.generation < gen {
				t.Fatalf("step %d (seed %d): generation went back to %d from %d", step, seed, j.generation, gen)
			}
			if j.code == 0 {
				gen = j.generation
			}
		}
		if g.state == groupStable || g.state == groupCompleting {
			for id, m := range g.members {
				if m.joining {
					t.Fatalf("step %d (seed %d): %s still joining in state %v", step, seed, id, g.state)
				}
			}
		}
		if g.state == groupEmpty && len(g.members) > 0 {
			t.Fatalf("step %d (seed %d): empty group with %d members", step, seed, len(g.members))
		}
	}
}
