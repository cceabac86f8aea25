package httpapi

import (
	"errors"
	"testing"

	"github.com/causeway/causeway/collections/service"
)

// FuzzParseImport feeds arbitrary import bodies of every type to the
// import parser and each document it accepts to importWrite: nothing may
// panic, a body refused as a whole is a known 400, and every accepted
// document is an object whose writes carry no system attribute.
func FuzzParseImport(f *testing.F) {
	for _, s := range []string{
		"{\"_key\":\"a\",\"n\":1}\n\n{\"b\":[1,2]}\r\n[1]\n{\"x\":",
		`[{"_key":"a"},1,null,{"_from":"x","_to":"c/y"}]`,
		"[\"_key\",\"n\"]\n[\"a\",1]\n[\"b\"]\n\n",
		"", "[", "{}", "[[]]", "[\"\"]\n[1]",
	} {
		for _, typ := range []string{"documents", "list", "auto", ""} {
			f.Add([]byte(s), typ)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, typ string) {
		items, empty, err := parseImport(body, typ)
		if err != nil {
			if !errors.Is(err, errCorruptJSON) && !errors.Is(err, service.ErrBadRequest) {
				t.Fatalf("refusal %v is neither a malformed body nor a bad request", err)
			}
			return
		}
		if empty < 0 || len(items)+empty > len(body)+1 {
			t.Fatalf("%d items, %d empty from %d bytes", len(items), empty, len(body))
		}
		o := importOptions{onDuplicate: service.OverwriteUpdate, fromPrefix: "c", toPrefix: "c"}
		for _, it := range items {
			if (it.err == nil) == (it.doc == nil) {
				t.Fatalf("item %d: doc %v, err %v", it.pos, it.doc, it.err)
			}
			if it.err != nil {
				continue
			}
			w, err := importWrite(it.doc, o)
			if err != nil {
				continue
			}
			for _, name := range []string{"_key", "_id", "_rev"} {
				if _, ok := w.Doc[name]; ok {
					t.Fatalf("item %d: %s among the attributes", it.pos, name)
				}
			}
		}
	})
}
