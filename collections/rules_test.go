package collections

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestRules checks each rule of RULES.md with its example, in every causally
// valid delivery order: the state must be byte-identical across orders, the
// view and the conflicts as the rule says, and re-applying every op a no-op.
func TestRules(t *testing.T) {
	tests := []struct {
		name      string
		ops       []Op
		want      string // attributes; "" when the document does not exist
		conflicts []string
	}{
		{
			name: "1 causally later write wins whatever its clock",
			ops: []Op{
				insert("us:1", "", 1, `{}`),
				set("us:2", "us:1", 9, "a", `1`),
				set("eu:1", "us:2", 3, "a", `2`),
			},
			want: `{"a":2}`,
		},
		{
			name: "2 concurrent writes of different attributes both win",
			ops: []Op{
				insert("us:1", "", 1, `{}`),
				set("us:2", "us:1", 2, "a", `1`),
				set("eu:1", "us:1", 2, "b", `2`),
			},
			want: `{"a":1,"b":2}`,
		},
		{
			name: "3 concurrent sets: higher HLC wins, loser is a conflict",
			ops: []Op{
				insert("us:1", "", 1, `{}`),
				set("us:2", "us:1", 5, "a", `"x"`),
				set("eu:1", "us:1", 7, "a", `"y"`),
			},
			want:      `{"a":"y"}`,
			conflicts: []string{`a="x"@us:2`},
		},
		{
			name: "3b concurrent sets with equal HLC: higher region wins",
			ops: []Op{
				insert("us:1", "", 1, `{}`),
				set("us:2", "us:1", 5, "a", `"x"`),
				set("eu:1", "us:1", 5, "a", `"y"`),
			},
			want:      `{"a":"x"}`,
			conflicts: []string{`a="y"@eu:1`},
		},
		{
			name: "4 a write that observed the conflict clears it",
			ops: []Op{
				insert("us:1", "", 1, `{}`),
				set("us:2", "us:1", 5, "a", `"x"`),
				set("eu:1", "us:1", 7, "a", `"y"`),
				set("us:3", "us:2 eu:1", 1, "a", `"z"`),
			},
			want: `{"a":"z"}`,
		},
		{
			name: "4b a write that observed only one side replaces only that side",
			ops: []Op{
				insert("us:1", "", 1, `{}`),
				set("us:2", "us:1", 5, "a", `"x"`),
				set("eu:1", "us:1", 7, "a", `"y"`),
				set("us:3", "us:2", 1, "a", `"z"`),
			},
			want:      `{"a":"y"}`,
			conflicts: []string{`a="z"@us:3`},
		},
		{
			name: "5 set wins over a concurrent unset",
			ops: []Op{
				insert("us:1", "", 1, `{"a":1}`),
				unset("us:2", "us:1", "a"),
				set("eu:1", "us:1", 1, "a", `2`),
			},
			want: `{"a":2}`,
		},
		{
			name: "5b unset removes what it observed",
			ops: []Op{
				insert("us:1", "", 1, `{"a":1,"b":1}`),
				set("eu:1", "us:1", 1, "a", `2`),
				unset("us:2", "us:1 eu:1", "a"),
			},
			want: `{"b":1}`,
		},
		{
			name: "6 an update concurrent with a document delete brings it back with that update only",
			ops: []Op{
				insert("us:1", "", 1, `{"a":1,"b":2}`),
				del("eu:1", "us:1"),
				set("us:2", "us:1", 1, "c", `3`),
			},
			want: `{"c":3}`,
		},
		{
			name: "6b an update of an observed attribute concurrent with a delete",
			ops: []Op{
				insert("us:1", "", 1, `{"a":1,"b":2}`),
				del("eu:1", "us:1"),
				set("us:2", "us:1", 1, "a", `5`),
			},
			want: `{"a":5}`,
		},
		{
			name: "7 concurrent unset and document delete: the document stays deleted",
			ops: []Op{
				insert("us:1", "", 1, `{"a":1}`),
				del("eu:1", "us:1"),
				unset("us:2", "us:1", "a"),
			},
			want: "",
		},
		{
			name: "7b a delete after an insert it observed",
			ops: []Op{
				insert("us:1", "", 1, `{"a":1}`),
				del("eu:1", "us:1"),
			},
			want: "",
		},
		{
			name: "8 replace removes what it observed, concurrent writes merge in",
			ops: []Op{
				insert("us:1", "", 1, `{"a":1,"b":1}`),
				replace("eu:1", "us:1", 1, `{"a":2}`),
				set("us:2", "us:1", 1, "b", `3`),
			},
			want: `{"a":2,"b":3}`,
		},
		{
			name: "8b concurrent inserts merge by attribute",
			ops: []Op{
				insert("us:1", "", 1, `{"a":1,"b":1}`),
				insert("eu:1", "", 2, `{"a":2,"c":2}`),
			},
			want:      `{"a":2,"b":1,"c":2}`,
			conflicts: []string{`a=1@us:1`},
		},
		{
			name: "9 concurrent increments add up",
			ops: []Op{
				insert("us:1", "", 1, `{"n":10}`),
				incr("us:2", "us:1", "n", 2),
				incr("eu:1", "us:1", "n", 3),
				incr("eu:2", "eu:1", "n", -1),
			},
			want: `{"n":14}`,
		},
		{
			name: "9b increments without a set count from zero",
			ops: []Op{
				insert("us:1", "", 1, `{}`),
				incr("us:2", "us:1", "n", 2),
				incr("eu:1", "us:1", "n", 3),
			},
			want: `{"n":5}`,
		},
		{
			name: "10 a set plus the increments it did not observe",
			ops: []Op{
				insert("us:1", "", 1, `{"n":10}`),
				incr("us:2", "us:1", "n", 1),
				set("eu:1", "us:1", 1, "n", `100`),
			},
			want: `{"n":101}`,
		},
		{
			name: "10b a set absorbs the increments it observed",
			ops: []Op{
				insert("us:1", "", 1, `{"n":10}`),
				incr("us:2", "us:1", "n", 1),
				set("eu:1", "us:2", 1, "n", `100`),
			},
			want: `{"n":100}`,
		},
		{
			name: "10c an increment observed by a losing set is gone too",
			ops: []Op{
				insert("us:1", "", 1, `{"n":10}`),
				incr("us:2", "us:1", "n", 1),
				set("eu:1", "us:2", 1, "n", `100`),
				set("ap:1", "us:1", 9, "n", `7`),
			},
			want:      `{"n":7}`,
			conflicts: []string{`n=100@eu:1`},
		},
		{
			name: "10d a fractional set plus integer increments",
			ops: []Op{
				insert("us:1", "", 1, `{"n":1.5}`),
				incr("us:2", "us:1", "n", 2),
			},
			want: `{"n":3.5}`,
		},
		{
			name: "11 an increment concurrent with an unset survives, from zero",
			ops: []Op{
				insert("us:1", "", 1, `{"n":10}`),
				unset("eu:1", "us:1", "n"),
				incr("us:2", "us:1", "n", 1),
			},
			want: `{"n":1}`,
		},
		{
			name: "11b an increment concurrent with a document delete brings it back",
			ops: []Op{
				insert("us:1", "", 1, `{"n":10,"s":"x"}`),
				del("eu:1", "us:1"),
				incr("us:2", "us:1", "n", 1),
			},
			want: `{"n":1}`,
		},
		{
			name: "12 increments of a value that is not a number are kept but not shown",
			ops: []Op{
				insert("us:1", "", 1, `{"n":"x"}`),
				incr("us:2", "us:1", "n", 1),
			},
			want: `{"n":"x"}`,
		},
		{
			name: "13 an object set merges with a concurrent write beneath it",
			ops: []Op{
				insert("us:1", "", 1, `{}`),
				set("us:2", "us:1", 1, "a", `{"x":1}`),
				set("eu:1", "us:1", 1, "a.b", `2`),
			},
			want: `{"a":{"b":2,"x":1}}`,
		},
		{
			name: "13b an object set and a concurrent write of one of its members",
			ops: []Op{
				insert("us:1", "", 1, `{}`),
				set("us:2", "us:1", 1, "a", `{"b":1}`),
				set("eu:1", "us:1", 5, "a.b", `2`),
			},
			want:      `{"a":{"b":2}}`,
			conflicts: []string{`a.b=1@us:2`},
		},
		{
			name: "13c an object set replaces what it observed beneath it",
			ops: []Op{
				insert("us:1", "", 1, `{"a":{"x":1,"y":1}}`),
				set("us:2", "us:1", 1, "a", `{"z":1}`),
			},
			want: `{"a":{"z":1}}`,
		},
		{
			name: "14 a write beneath a concurrently unset attribute survives",
			ops: []Op{
				insert("us:1", "", 1, `{"a":{"x":1}}`),
				unset("us:2", "us:1", "a"),
				set("eu:1", "us:1", 1, "a.b", `2`),
			},
			want: `{"a":{"b":2}}`,
		},
		{
			name: "15 an object wins over a concurrent scalar, whatever the clocks",
			ops: []Op{
				insert("us:1", "", 1, `{}`),
				set("us:2", "us:1", 9, "a", `5`),
				set("eu:1", "us:1", 1, "a.b", `2`),
			},
			want:      `{"a":{"b":2}}`,
			conflicts: []string{`a=5@us:2`},
		},
		{
			name: "15b an empty object wins over a concurrent scalar",
			ops: []Op{
				insert("us:1", "", 1, `{}`),
				set("us:2", "us:1", 9, "a", `5`),
				set("eu:1", "us:1", 1, "a", `{}`),
			},
			want:      `{"a":{}}`,
			conflicts: []string{`a=5@us:2`},
		},
		{
			name: "16 a causally later scalar replaces an object",
			ops: []Op{
				insert("us:1", "", 1, `{"a":{"b":1}}`),
				set("us:2", "us:1", 1, "a", `5`),
			},
			want: `{"a":5}`,
		},
		{
			name: "16b a causally later write beneath a scalar makes it an object",
			ops: []Op{
				insert("us:1", "", 1, `{"a":5}`),
				set("us:2", "us:1", 1, "a.b", `1`),
			},
			want: `{"a":{"b":1}}`,
		},
		{
			name: "17 unset of a missing path changes nothing visible",
			ops: []Op{
				insert("us:1", "", 1, `{"x":1}`),
				unset("us:2", "us:1", "a.b"),
			},
			want: `{"x":1}`,
		},
		{
			name: "17b a write beneath missing attributes creates them as objects",
			ops: []Op{
				insert("us:1", "", 1, `{}`),
				set("us:2", "us:1", 1, "a.b.c", `1`),
			},
			want: `{"a":{"b":{"c":1}}}`,
		},
		{
			name: "17c a write to a document never inserted creates it",
			ops: []Op{
				set("us:1", "", 1, "a", `1`),
			},
			want: `{"a":1}`,
		},
		{
			name: "18 arrays are values: set whole, conflict whole",
			ops: []Op{
				insert("us:1", "", 1, `{}`),
				set("us:2", "us:1", 1, "a", `[1,2]`),
				set("eu:1", "us:1", 2, "a", `[3]`),
			},
			want:      `{"a":[3]}`,
			conflicts: []string{`a=[1,2]@us:2`},
		},
		{
			name: "18b null is a value",
			ops: []Op{
				insert("us:1", "", 1, `{"a":1}`),
				set("us:2", "us:1", 1, "a", `null`),
			},
			want: `{"a":null}`,
		},
		{
			name: "19 unsetting every attribute leaves an empty document",
			ops: []Op{
				insert("us:1", "", 1, `{"a":1}`),
				unset("us:2", "us:1", "a"),
			},
			want: `{}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var first []byte
			orders := 0
			causalOrders(tt.ops, func(order []Op) {
				orders++
				d := NewDoc(testCollection, testKey)
				for _, op := range order {
					if !mustApply(t, d, op) {
						t.Fatalf("op %s reported as a duplicate", op.Dot)
					}
				}
				enc := d.AppendBinary(nil)
				if first == nil {
					first = enc
				} else if !bytes.Equal(enc, first) {
					t.Fatalf("order %s: state differs from the first order's", dotsOf(order))
				}
				if got, want := attrs(t, d), normalize(t, tt.want); got != want {
					t.Fatalf("order %s: document %s, want %s", dotsOf(order), got, want)
				}
				if got := conflictStrings(d); !slices.Equal(got, tt.conflicts) {
					t.Fatalf("order %s: conflicts %q, want %q", dotsOf(order), got, tt.conflicts)
				}
				for _, op := range order {
					if mustApply(t, d, op) {
						t.Fatalf("re-applying %s was not recognised as a duplicate", op.Dot)
					}
				}
				if !bytes.Equal(d.AppendBinary(nil), enc) {
					t.Fatalf("re-applying the ops changed the state")
				}
			})
			if orders == 0 {
				t.Fatal("no causal order: the row's contexts are inconsistent")
			}
		})
	}
}

func dotsOf(ops []Op) string {
	var s []string
	for _, op := range ops {
		s = append(s, op.Dot.String())
	}
	return strings.Join(s, ",")
}
