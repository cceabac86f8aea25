package collections

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Test helpers build ops on document c/k from short strings: a dot is
// "us:2", a context "eu:1 us:1", a path "a.b" ("" for none).

const (
	testCollection = "c"
	testKey        = "k"
)

func parseDot(s string) Dot {
	region, seq, ok := strings.Cut(s, ":")
	n, err := strconv.ParseUint(seq, 10, 64)
	if !ok || err != nil {
		panic("bad dot " + s)
	}
	return Dot{Region: region, Seq: n}
}

func parseCtx(s string) Vector {
	m := map[string]uint64{}
	for _, f := range strings.Fields(s) {
		d := parseDot(f)
		m[d.Region] = d.Seq
	}
	return VectorOf(m)
}

func parsePath(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ".")
}

func mkOp(kind Kind, dot, ctx string, hlc uint64, path, value string) Op {
	op := Op{Collection: testCollection, Key: testKey, Kind: kind, Dot: parseDot(dot), Context: parseCtx(ctx), HLC: hlc, Path: parsePath(path)}
	if value != "" {
		op.Value = json.RawMessage(value)
	}
	return op
}

func insert(dot, ctx string, hlc uint64, body string) Op {
	return mkOp(KindInsert, dot, ctx, hlc, "", body)
}
func replace(dot, ctx string, hlc uint64, body string) Op {
	return mkOp(KindReplace, dot, ctx, hlc, "", body)
}
func del(dot, ctx string) Op { return mkOp(KindDelete, dot, ctx, 0, "", "") }
func set(dot, ctx string, hlc uint64, path, value string) Op {
	return mkOp(KindSet, dot, ctx, hlc, path, value)
}
func unset(dot, ctx, path string) Op { return mkOp(KindUnset, dot, ctx, 0, path, "") }
func incr(dot, ctx, path string, delta int64) Op {
	return mkOp(KindIncrement, dot, ctx, 0, path, strconv.FormatInt(delta, 10))
}

// attrs returns the document's attributes as canonical JSON (system
// attributes removed, names sorted, numbers as written), or "" when the
// document does not exist.
func attrs(t testing.TB, d *Doc) string {
	t.Helper()
	view, ok := d.JSON()
	if !ok {
		return ""
	}
	m := decodeJSONObject(t, view)
	if m["_key"] != d.Key() || m["_id"] != d.ID() || m["_rev"] != d.Rev() {
		t.Fatalf("system attributes wrong in %s", view)
	}
	delete(m, "_key")
	delete(m, "_id")
	delete(m, "_rev")
	return canonicalJSON(t, m)
}

func decodeJSONObject(t testing.TB, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("view %s is not a JSON object: %v", b, err)
	}
	return m
}

// canonicalJSON marshals v (maps sort their keys).
func canonicalJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %v: %v", v, err)
	}
	return string(b)
}

// normalize re-marshals a JSON text canonically.
func normalize(t testing.TB, s string) string {
	t.Helper()
	if s == "" {
		return ""
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("bad JSON %q in test: %v", s, err)
	}
	return canonicalJSON(t, v)
}

// conflictStrings renders conflicts as path=value@dot, sorted.
func conflictStrings(d *Doc) []string {
	var out []string
	for _, c := range d.Conflicts() {
		out = append(out, fmt.Sprintf("%s=%s@%s", strings.Join(c.Path, "."), c.Value, c.Dot))
	}
	sort.Strings(out)
	return out
}

// causalOrders calls f with every order of ops in which each op comes after
// the ops its context covers.
func causalOrders(ops []Op, f func(order []Op)) {
	used := make([]bool, len(ops))
	var order []Op
	var rec func()
	rec = func() {
		if len(order) == len(ops) {
			f(order)
			return
		}
		for i := range ops {
			if used[i] || !depsDelivered(ops, used, i) {
				continue
			}
			used[i] = true
			order = append(order, ops[i])
			rec()
			order = order[:len(order)-1]
			used[i] = false
		}
	}
	rec()
}

func depsDelivered(ops []Op, used []bool, i int) bool {
	for j := range ops {
		if !used[j] && j != i && ops[i].Context.Covers(ops[j].Dot) {
			return false
		}
	}
	return true
}

func mustApply(t testing.TB, d *Doc, op Op) bool {
	t.Helper()
	applied, err := d.Apply(&op)
	if err != nil {
		t.Fatalf("apply %s %s: %v", op.Kind, op.Dot, err)
	}
	return applied
}

// debugString renders a document's whole state, entries and all, for
// failure messages.
func (d *Doc) debugString() string {
	var b strings.Builder
	fmt.Fprintf(&b, "applied=%s heads=%v expiry=%v\n", d.applied, d.heads, d.expiry)
	var walk func(name string, n *node, indent string)
	walk = func(name string, n *node, indent string) {
		fmt.Fprintf(&b, "%s%s markers=%v", indent, name, n.markers)
		for _, v := range n.vals {
			fmt.Fprintf(&b, " val(%s@%d)=%s", v.dot, v.hlc, v.raw)
		}
		if incs := n.incs.flat(); len(incs) > 0 {
			fmt.Fprintf(&b, " incs=%v", incs)
		}
		b.WriteString("\n")
		for _, c := range n.kids {
			walk(c.name, c.n, indent+"  ")
		}
	}
	walk("(root)", &d.root, "")
	return b.String()
}
