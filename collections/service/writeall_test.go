package service

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/causeway/causeway/broker/naming"
)

func TestWriteAllAppliesAllOrNothing(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.CreateCollection(naming.DefaultTenant, naming.SystemFabric, CollectionSpec{Name: "users"}); err != nil {
		t.Fatal(err)
	}
	first := e.write(Write{Kind: Insert, Key: "a", Doc: map[string]any{"n": json.Number("1")}})
	count := func() int64 {
		n, err := e.svc.Count(users)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	deep := map[string]any{}
	for i, d := 0, deep; i < 100; i++ {
		next := map[string]any{}
		d["x"] = next
		d = next
	}
	for _, c := range []struct {
		name    string
		ws      []Write
		refused int
		want    error
	}{
		{"an existing key", []Write{{Kind: Insert, Key: "b"}, {Kind: Insert, Key: "a"}}, 1, ErrKeyExists},
		{"a key twice", []Write{{Kind: Insert, Key: "c"}, {Kind: Insert, Key: "c"}}, 1, ErrBadRequest},
		{"a bad key", []Write{{Kind: Insert, Key: "d"}, {Kind: Insert, Key: "no/slash"}}, 1, ErrInvalidKey},
		{"a document too deep", []Write{{Kind: Insert, Key: "e"}, {Kind: Insert, Key: "f", Doc: deep}}, 1, nil},
		{"a wrong _rev", []Write{{Kind: Insert, Key: "g"}, {Kind: Update, Key: "a", IfRev: "nope", Doc: map[string]any{"n": json.Number("2")}}}, 1, ErrPrecondition},
		{"a missing document", []Write{{Kind: Replace, Key: "zz"}}, 0, ErrDocumentNotFound},
	} {
		res, applied, err := e.svc.WriteAll(users, c.ws)
		if err != nil || applied {
			t.Fatalf("%s: applied %v, %v", c.name, applied, err)
		}
		if res[c.refused].Err == nil || (c.want != nil && !errors.Is(res[c.refused].Err, c.want)) {
			t.Fatalf("%s: results %+v", c.name, res)
		}
		if n := count(); n != 1 {
			t.Fatalf("%s: %d documents after a refused request", c.name, n)
		}
		if e.doc("a")["_rev"] != first[0].Rev {
			t.Fatalf("%s: a changed", c.name)
		}
	}
	res, applied, err := e.svc.WriteAll(users, []Write{
		{Kind: Insert, Key: "b"}, {Kind: Insert}, {Kind: Insert, Key: "a", Overwrite: OverwriteUpdate, Doc: map[string]any{"m": true}, MergeObjects: true, KeepNull: true},
	})
	if err != nil || !applied || res[0].Err != nil || res[1].Err != nil || res[1].Key == "" || res[2].OldRev != first[0].Rev {
		t.Fatalf("applied %v %v: %+v", applied, err, res)
	}
	if n := count(); n != 3 || e.doc("a")["m"] != true || e.doc(res[1].Key) == nil {
		t.Fatalf("%d documents, a = %v", n, e.doc("a"))
	}
}
