package httpapi

import (
	"errors"
	"testing"
	"time"

	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/query"
	"github.com/causeway/causeway/collections/service"
)

// FuzzDecodeBodies feeds arbitrary bytes to every request-body decoder:
// none may panic, each failure must be a known 4xx error, and what they
// accept must hold up (no system attribute among user attributes, keys
// and values where they belong).
func FuzzDecodeBodies(f *testing.F) {
	for _, s := range []string{
		`{"_key":"a","_rev":"x","_id":"c/a","v":{"w":[1,2,{"z":null}]}}`,
		`[{"_key":"a"},{"b":1},"k"]`,
		`[{"_key":"k","value":{"n":1},"expireAt":1700000000},{"_key":"j","value":null,"ttl":5}]`,
		`{"query":"SELECT * FROM c WHERE a = @a","bindVars":{"a":1},"batchSize":10,"ttl":30}`,
		`{"query":"SELECT * FROM c WHERE a = ?","bindVars":[1]}`,
		`{"name":"c","type":"edge","keyValue":false,"ttl":0}`,
		`{"type":"persistent","fields":["a.b"],"name":"ix"}`,
		`{"query":{"name":"q","value":"SELECT * FROM c","parameter":{"p":1}}}`,
		`{"a":1} trailing`, `[`, `{"_key":7}`, `{"value":1e999}`,
	} {
		f.Add([]byte(s))
	}
	now := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decodeJSON(data)
		if err != nil {
			if !errors.Is(err, errCorruptJSON) {
				t.Fatalf("decodeJSON: %v", err)
			}
			return
		}
		check := func(what string, err error) {
			t.Helper()
			if err == nil {
				return
			}
			if status, _ := codes(err); status < 400 || status >= 500 {
				t.Fatalf("%s: error %v maps to status %d", what, err, status)
			}
		}
		docs, _, err := documentsInput(v)
		check("documentsInput", err)
		for _, d := range docs {
			for name := range d.attrs {
				if name == "_key" || name == "_id" || name == "_rev" {
					t.Fatalf("system attribute %s among user attributes", name)
				}
			}
		}
		keys, err := keysInput(v)
		check("keysInput", err)
		for _, k := range keys {
			if !k.hasKey {
				t.Fatal("a key input without a key")
			}
		}
		entries, _, err := kvEntriesInput(v, now)
		check("kvEntriesInput", err)
		for _, e := range entries {
			if e.noExpiry && e.expiresAt != 0 {
				t.Fatal("an entry with and without expiry")
			}
		}
		_, err = cursorRequestInput(v)
		check("cursorRequestInput", err)
		spec, err := collectionSpec(v)
		check("collectionSpec", err)
		if err == nil && spec.Type != 0 && spec.Type != 2 && spec.Type != 3 {
			t.Fatalf("collection type %d accepted", spec.Type)
		}
		_, _, err = indexSpec(v)
		check("indexSpec", err)
		_, err = savedQueryInput(v, "")
		check("savedQueryInput", err)
		_, err = bindVarsInput(v)
		check("bindVarsInput", err)
	})
}

// TestErrorCodes pins the status and ArangoDB number of each error.
func TestErrorCodes(t *testing.T) {
	cases := []struct {
		err         error
		status, num int
	}{
		{errCorruptJSON, 400, 600},
		{service.ErrDocumentNotFound, 404, 1202},
		{service.ErrCollectionNotFound, 404, 1203},
		{service.ErrKeyExists, 409, 1210},
		{service.ErrPrecondition, 412, 1200},
		{service.ErrInvalidKey, 400, 1221},
		{collections.ErrInvalidName, 400, 1208},
		{collections.ErrInvalidOp, 400, 1227},
		{query.ErrSyntax, 400, 1501},
		{query.ErrBindMissing, 400, 1551},
		{service.ErrCursorNotFound, 404, 1600},
		{service.ErrQueryTimeout, 410, 1500},
		{service.ErrUnavailable, 503, 503},
		{errors.New("other"), 500, 4},
	}
	for _, tc := range cases {
		if s, n := codes(tc.err); s != tc.status || n != tc.num {
			t.Errorf("%v: %d/%d, want %d/%d", tc.err, s, n, tc.status, tc.num)
		}
	}
}
