package collections

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The oracle states the merge rules declaratively, over the whole history of
// a document, without the reducer's incremental state: every op leaves
// entries (object markers, values, increments) at locations; an entry
// survives unless some op that observed it (its context covers the entry's
// dot) has a scope covering the entry's location. The expected document is
// then read off the surviving entries.

type oracleEntry struct {
	kind  byte // 'm' marker, 'v' value, 'i' increment
	loc   []string
	dot   Dot
	hlc   uint64
	raw   json.RawMessage
	delta int64
}

// opEntries lists what op writes.
func opEntries(t testing.TB, op Op) []oracleEntry {
	var out []oracleEntry
	markersAbove := func(path []string) {
		for i := range path {
			out = append(out, oracleEntry{kind: 'm', loc: path[:i], dot: op.Dot})
		}
	}
	var writeValue func(loc []string, raw json.RawMessage)
	writeValue = func(loc []string, raw json.RawMessage) {
		if raw[0] != '{' {
			out = append(out, oracleEntry{kind: 'v', loc: loc, dot: op.Dot, hlc: op.HLC, raw: raw})
			return
		}
		out = append(out, oracleEntry{kind: 'm', loc: loc, dot: op.Dot})
		var members map[string]json.RawMessage
		if err := json.Unmarshal(raw, &members); err != nil {
			t.Fatalf("oracle: %v", err)
		}
		for name, v := range members {
			writeValue(append(slices.Clip(loc), name), v)
		}
	}
	switch op.Kind {
	case KindInsert, KindReplace:
		writeValue(nil, op.Value)
	case KindSet:
		markersAbove(op.Path)
		writeValue(op.Path, op.Value)
	case KindIncrement:
		markersAbove(op.Path)
		delta, err := strconv.ParseInt(string(op.Value), 10, 64)
		if err != nil {
			t.Fatalf("oracle: %v", err)
		}
		out = append(out, oracleEntry{kind: 'i', loc: op.Path, dot: op.Dot, delta: delta})
	}
	return out
}

func hasPrefix(loc, prefix []string) bool {
	return len(loc) >= len(prefix) && slices.Equal(loc[:len(prefix)], prefix)
}

// scopeCovers reports whether op y, when it observed an entry at loc,
// removes it: whole-document ops remove everything; a set or unset removes
// its path and everything beneath; a write beneath a location (set or
// increment) removes what the location held, since it makes it an object.
func scopeCovers(y *Op, loc []string) bool {
	switch y.Kind {
	case KindInsert, KindReplace, KindDelete:
		return true
	case KindSet, KindUnset:
		if hasPrefix(loc, y.Path) {
			return true
		}
	}
	return (y.Kind == KindSet || y.Kind == KindIncrement) && len(loc) < len(y.Path) && hasPrefix(y.Path, loc)
}

// overridden reports whether some op observed the op with dot x and covers loc.
func overridden(ops []Op, x Dot, loc []string) bool {
	for i := range ops {
		if ops[i].Dot != x && ops[i].Context.Covers(x) && scopeCovers(&ops[i], loc) {
			return true
		}
	}
	return false
}

// oracleDoc is the expected state of one document.
type oracleDoc struct {
	exists    bool
	attrs     string // canonical JSON of the attributes
	conflicts []string
	expiresAt uint64
}

func computeOracle(t testing.TB, ops []Op) oracleDoc {
	var survivors []oracleEntry
	for _, op := range ops {
		for _, e := range opEntries(t, op) {
			if !overridden(ops, e.dot, e.loc) {
				survivors = append(survivors, e)
			}
		}
	}
	var o oracleDoc
	var build func(loc []string) (any, bool)
	build = func(loc []string) (any, bool) {
		var markers int
		var vals, incs []oracleEntry
		children := map[string]bool{}
		for _, e := range survivors {
			switch {
			case !hasPrefix(e.loc, loc):
			case len(e.loc) > len(loc):
				children[e.loc[len(loc)]] = true
			case e.kind == 'm':
				markers++
			case e.kind == 'v':
				vals = append(vals, e)
			case e.kind == 'i':
				incs = append(incs, e)
			}
		}
		win := -1
		if markers == 0 && len(vals) > 0 {
			win = 0
			for i, v := range vals {
				if v.hlc > vals[win].hlc || (v.hlc == vals[win].hlc && v.dot.Compare(vals[win].dot) > 0) {
					win = i
				}
			}
		}
		for i, v := range vals {
			if i != win {
				o.conflicts = append(o.conflicts, fmt.Sprintf("%s=%s@%s", strings.Join(loc, "."), v.raw, v.dot))
			}
		}
		if markers == 0 && len(children) > 0 {
			t.Fatalf("oracle: entries beneath %q, which is not an object", loc)
		}
		var sum int64
		for _, x := range incs {
			sum += x.delta
		}
		switch {
		case markers > 0:
			obj := map[string]any{}
			for name := range children {
				if v, ok := build(append(slices.Clip(loc), name)); ok {
					obj[name] = v
				}
			}
			return obj, true
		case win >= 0:
			v := decodeAny(t, vals[win].raw)
			if n, ok := v.(json.Number); ok && len(incs) > 0 {
				if i, err := n.Int64(); err == nil {
					return json.Number(strconv.FormatInt(i+sum, 10)), true
				}
				f, _ := n.Float64()
				b, _ := json.Marshal(f + float64(sum))
				return json.Number(b), true
			}
			return v, true
		case len(incs) > 0:
			return json.Number(strconv.FormatInt(sum, 10)), true
		}
		return nil, false
	}
	root, ok := build(nil)
	if ok {
		if _, isObj := root.(map[string]any); !isObj {
			t.Fatalf("oracle: document root is not an object")
		}
		o.exists = true
		o.attrs = canonicalJSON(t, root)
		sort.Strings(o.conflicts)
	} else {
		o.conflicts = nil
	}
	o.expiresAt = oracleExpiry(ops)
	return o
}

// oracleExpiry: whole-document writes always write the expiry register (0:
// none), attribute writes only when they carry one; a delete or another
// expiry write that observed an entry removes it; the winner is the usual.
func oracleExpiry(ops []Op) uint64 {
	writes := func(op *Op) bool {
		return op.Kind == KindInsert || op.Kind == KindReplace || op.ExpiresAt != 0
	}
	var best *Op
	for i := range ops {
		x := &ops[i]
		if !writes(x) {
			continue
		}
		removed := false
		for j := range ops {
			y := &ops[j]
			if j != i && y.Context.Covers(x.Dot) && (writes(y) || y.Kind == KindDelete) {
				removed = true
				break
			}
		}
		if !removed && (best == nil || x.HLC > best.HLC || (x.HLC == best.HLC && x.Dot.Compare(best.Dot) > 0)) {
			best = x
		}
	}
	if best == nil {
		return 0
	}
	return best.ExpiresAt
}

func decodeAny(t testing.TB, raw []byte) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("oracle: %v", err)
	}
	return v
}
