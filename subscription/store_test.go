package subscription

import (
	"errors"
	"reflect"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

func TestStores(t *testing.T) {
	db, err := pebble.Open("db", &pebble.Options{FS: vfs.NewMem(), Logger: quietPebble{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for name, store := range map[string]Store{"pebble": NewPebbleStore(db), "mem": NewMemStore()} {
		t.Run(name, func(t *testing.T) {
			if _, ok, err := store.Load("a"); ok || err != nil {
				t.Fatalf("missing key: ok=%v err=%v", ok, err)
			}
			want := CursorState{MarkDelete: 10, Acked: []Range{{12, 14}}}
			if err := store.Save("a", want); err != nil {
				t.Fatal(err)
			}
			got, ok, err := store.Load("a")
			if !ok || err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("Load = %+v, %v, %v", got, ok, err)
			}
			if err := store.Save("a", CursorState{MarkDelete: 5, Acked: []Range{{4, 6}}}); !errors.Is(err, ErrCorruptCursor) {
				t.Fatalf("saving an invalid state: %v", err)
			}
			if err := store.Delete("a"); err != nil {
				t.Fatal(err)
			}
			if err := store.Delete("a"); err != nil {
				t.Fatalf("deleting a missing key: %v", err)
			}
			if _, ok, _ := store.Load("a"); ok {
				t.Fatal("deleted cursor still loads")
			}
		})
	}
	// A corrupt stored value is a clear error, not a panic or a silent reset.
	if err := db.Set([]byte(pebbleKeyPrefix+"bad"), []byte{9, 9}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if _, _, err := NewPebbleStore(db).Load("bad"); !errors.Is(err, ErrCorruptCursor) {
		t.Fatalf("corrupt cursor: %v", err)
	}
	if _, err := Open(Config{Name: "s"}, newMemSource(), NewPebbleStore(db), "bad"); !errors.Is(err, ErrCorruptCursor) {
		t.Fatalf("Open on a corrupt cursor: %v", err)
	}
}
