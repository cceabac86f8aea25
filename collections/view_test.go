package collections

import (
	"encoding/json"
	"math"
	"testing"
)

func TestViewSystemAttributesAndEscaping(t *testing.T) {
	d := NewDoc("users", "a:b")
	op := Op{Collection: "users", Key: "a:b", Kind: KindInsert, Dot: Dot{"us", 1}, HLC: 1,
		Value: json.RawMessage(`{"q\"uote":"\u00e9","ctl\u0001":1,"tab\t":[1]}`)}
	mustApply(t, d, op)
	view, ok := d.JSON()
	if !ok {
		t.Fatal("document missing")
	}
	want := `{"_key":"a:b","_id":"users/a:b","_rev":"` + d.Rev() + `","ctl\u0001":1,"q\"uote":"\u00e9","tab\t":[1]}`
	if string(view) != want {
		t.Fatalf("view\n got %s\nwant %s", view, want)
	}
	if !json.Valid(view) {
		t.Fatal("view is not valid JSON")
	}
}

func TestRevChangesOnEveryAppliedOp(t *testing.T) {
	ops := []Op{
		insert("us:1", "", 1, `{"a":1}`),
		unset("us:2", "us:1", "missing"), // changes nothing visible, still a new revision
		set("eu:1", "us:1", 1, "a", `2`),
		del("us:3", "us:2 eu:1"),
		set("us:4", "us:3", 1, "a", `1`),
	}
	d := NewDoc(testCollection, testKey)
	seen := map[string]bool{d.Rev(): true}
	for _, op := range ops {
		mustApply(t, d, op)
		if seen[d.Rev()] {
			t.Fatalf("revision %s repeated after %s", d.Rev(), op.Dot)
		}
		seen[d.Rev()] = true
	}
	rev := d.Rev()
	mustApply(t, d, ops[2])
	if d.Rev() != rev {
		t.Fatal("a duplicate changed the revision")
	}
}

func TestCounterNumbers(t *testing.T) {
	tests := []struct {
		name  string
		base  string
		delta int64
		want  string
	}{
		{"integer", `40`, 2, `42`},
		{"negative", `-1`, -2, `-3`},
		{"fraction", `0.25`, 1, `1.25`},
		{"exponent base", `1e2`, 1, `101`},
		{"overflow moves to float", `9223372036854775807`, 1, `9223372036854776000`},
		{"tiny float", `0.0000001`, 0, `1e-7`},
		{"huge base is not a number", `1e400`, 1, `1e400`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDoc(testCollection, testKey)
			mustApply(t, d, insert("us:1", "", 1, `{"n":`+tt.base+`}`))
			mustApply(t, d, incr("us:2", "us:1", "n", tt.delta))
			view, _ := d.JSON()
			var m map[string]json.RawMessage
			if err := json.Unmarshal(view, &m); err != nil {
				t.Fatal(err)
			}
			if got := string(m["n"]); got != tt.want {
				t.Fatalf("n = %s, want %s", got, tt.want)
			}
		})
	}
	var n number
	n.f = math.Inf(1)
	if got := string(n.appendJSON(nil)); !json.Valid([]byte(got)) {
		t.Fatalf("infinite sum renders as %s", got)
	}
}

func TestExpiryRegister(t *testing.T) {
	withExpiry := func(op Op, at uint64) Op { op.ExpiresAt = at; return op }
	tests := []struct {
		name string
		ops  []Op
		want uint64
	}{
		{"insert with expiry", []Op{withExpiry(insert("us:1", "", 1, `{}`), 100)}, 100},
		{"replace without expiry clears it", []Op{withExpiry(insert("us:1", "", 1, `{}`), 100), replace("us:2", "us:1", 2, `{}`)}, 0},
		{"attribute write without expiry keeps it", []Op{withExpiry(insert("us:1", "", 1, `{}`), 100), set("us:2", "us:1", 2, "a", `1`)}, 100},
		{"attribute write with expiry sets it", []Op{insert("us:1", "", 1, `{}`), withExpiry(set("us:2", "us:1", 2, "a", `1`), 300)}, 300},
		{"concurrent writes: higher HLC wins", []Op{withExpiry(insert("us:1", "", 1, `{}`), 100), withExpiry(insert("eu:1", "", 2, `{}`), 200)}, 200},
		{"concurrent replace without expiry, higher HLC", []Op{withExpiry(insert("us:1", "", 1, `{}`), 100), replace("eu:1", "", 2, `{}`)}, 0},
		{"delete clears what it observed", []Op{withExpiry(insert("us:1", "", 1, `{}`), 100), del("eu:1", "us:1")}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			causalOrders(tt.ops, func(order []Op) {
				d := NewDoc(testCollection, testKey)
				for _, op := range order {
					mustApply(t, d, op)
				}
				if got := d.ExpiresAt(); got != tt.want {
					t.Fatalf("order %s: expires at %d, want %d", dotsOf(order), got, tt.want)
				}
			})
		})
	}
}
