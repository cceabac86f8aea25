package aql

import (
	"github.com/valyala/fastjson"

	"github.com/causeway/causeway/collections/query"
)

// lazyDoc is a document a FOR read from a collection (or an object inside
// one), parsed but not converted: attribute access reads the parsed JSON,
// and RETURN of a whole document writes the bytes as read. Any other use
// converts it once (plain).
//
// A FOR parses each document with one parser and reads it from the
// iterator's buffer (shared): both are reused for the next document, so a
// statement that keeps rows past the next pull (SORT, a data
// modification's chunk) first gives their documents copies of their own
// (pinRow). Values built from documents (arrays, objects, subquery
// results, COLLECT groups) are always plain.
type lazyDoc struct {
	raw    []byte // the document's JSON (nil for an object inside one)
	val    *fastjson.Value
	m      map[string]any
	shared bool
}

// parseLazy parses a document with the loop's parser.
func parseLazy(p *fastjson.Parser, doc []byte) (*lazyDoc, bool) {
	v, err := p.ParseBytes(doc)
	if err != nil || v.Type() != fastjson.TypeObject {
		return nil, false
	}
	return &lazyDoc{raw: doc, val: v, shared: true}, true
}

// own gives a shared document a copy of its own.
func (d *lazyDoc) own() {
	if !d.shared {
		return
	}
	d.shared = false
	if d.m != nil {
		d.val, d.raw = nil, nil
		return
	}
	var b []byte
	if d.raw != nil {
		b = append([]byte(nil), d.raw...)
		d.raw = b
	} else {
		b = d.val.MarshalTo(nil)
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(b)
	if err != nil { // cannot happen: it parsed before
		d.m, d.val, d.raw = map[string]any{}, nil, nil
		return
	}
	d.val = v
}

// pinRow makes a row's documents safe to keep past the loop's next pull.
func pinRow(r row) {
	for _, v := range r {
		if d, ok := v.(*lazyDoc); ok {
			d.own()
		}
	}
}

func (d *lazyDoc) plain() map[string]any {
	if d.m == nil {
		d.m = query.FromFast(d.val).(map[string]any)
	}
	return d.m
}

func (d *lazyDoc) get(name string) any {
	if d.m != nil {
		return d.m[name]
	}
	v := d.val.Get(name)
	if v != nil && v.Type() == fastjson.TypeObject {
		return &lazyDoc{val: v, shared: d.shared}
	}
	return query.FromFast(v)
}

// json returns the document's JSON.
func (d *lazyDoc) json() []byte {
	if d.m != nil {
		return appendJSON(nil, d.m)
	}
	if d.raw != nil {
		return d.raw
	}
	return d.val.MarshalTo(nil)
}

// plain converts a lazy document to its map (other values as they are).
func plain(v any) any {
	if d, ok := v.(*lazyDoc); ok {
		return d.plain()
	}
	return v
}
