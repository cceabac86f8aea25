package spot

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestSingleReplicaRoundTrip(t *testing.T) {
	n := startNode(t, testConfig(t, "us", 1), Options{})
	ctx := ctxT(t)
	ref := Ref{Tenant: "_mm", Fabric: "_system", Collection: "accounts"}
	if _, err := n.svc.CreateCollection(ctx, ref.Tenant, ref.Fabric, CollectionSpec{Name: ref.Collection}); err != nil {
		t.Fatal(err)
	}
	res, err := n.svc.Insert(ctx, ref, "a", json.RawMessage(`{"balance":10}`), WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := n.svc.Get(ctx, ref, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got.Rev != res.Rev {
		t.Fatalf("rev %s, want %s", got.Rev, res.Rev)
	}
	t.Logf("doc %s", got.Doc)
	_, err = n.svc.Transaction(ctx, ref.Tenant, ref.Fabric, &Txn{
		Preconditions: []Precondition{{Collection: "accounts", Key: "a", Rev: "nope"}},
		Ops:           []Op{{Kind: Update, Collection: "accounts", Key: "a", Doc: json.RawMessage(`{"balance":{"$inc":-5}}`)}},
	}, TxnOptions{})
	if !errors.Is(err, ErrPrecondition) {
		t.Fatalf("err %v, want precondition", err)
	}
	tr, err := n.svc.Transaction(ctx, ref.Tenant, ref.Fabric, &Txn{
		Preconditions: []Precondition{{Collection: "accounts", Key: "a", Rev: got.Rev}},
		Ops:           []Op{{Kind: Update, Collection: "accounts", Key: "a", Doc: json.RawMessage(`{"balance":{"$inc":-5}}`)}},
	}, TxnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after %s", tr.Results[0].Doc)
}
