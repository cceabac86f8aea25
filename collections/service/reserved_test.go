package service

import (
	"errors"
	"testing"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
)

// TestCollectionStreamsAreReserved: a collection's two streams are the
// broker's reserved names, so clients cannot write or delete them, while
// the service writes them and drops them with the collection.
func TestCollectionStreamsAreReserved(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.CreateCollection(users.Tenant, users.Fabric, CollectionSpec{Name: "users"}); err != nil {
		t.Fatal(err)
	}
	e.write(Write{Kind: Insert, Key: "a"})
	names := []string{OpLogStream("users"), ChangeFeedStream("users")}
	for _, name := range names {
		if !naming.Reserved(name) {
			t.Fatalf("%s is not a reserved stream name", name)
		}
		sn := naming.Stream{Persistent: true, Tenant: users.Tenant, Fabric: users.Fabric, Name: name}
		st, err := e.node.Stream(sn)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.AttachProducer("", -1); !errors.Is(err, naming.ErrReserved) {
			t.Fatalf("client producer on %s: %v", name, err)
		}
		if err := e.node.DeleteStream(sn, true); !errors.Is(err, naming.ErrReserved) {
			t.Fatalf("delete %s: %v", name, err)
		}
	}
	e.write(Write{Kind: Insert, Key: "b"})
	if e.doc("b") == nil {
		t.Fatal("the collection stopped writing")
	}
	if err := e.svc.DropCollection(users); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		sn := naming.Stream{Persistent: true, Tenant: users.Tenant, Fabric: users.Fabric, Name: name}
		if _, err := e.node.Stream(sn); !errors.Is(err, broker.ErrStreamNotFound) {
			t.Fatalf("%s after the drop: %v", name, err)
		}
	}
}
