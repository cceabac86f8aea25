package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/naming"
)

var geoRegions = []string{"ap", "eu", "us"}

// TestGeoPartitionConvergesToRuleTable partitions three regions while they
// write the same documents, heals, and checks every region holds what the
// rule table (RULES.md) predicts, with the same _rev and conflicts.
func TestGeoPartitionConvergesToRuleTable(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Logf("seed %d", seed)
			f := newFakeFabric(t, seed, geoRegions...)
			us, eu, ap := f.regions["us"], f.regions["eu"], f.regions["ap"]
			ref := sysRef("users")
			if _, err := us.svc.CreateCollection(naming.DefaultTenant, naming.SystemFabric, CollectionSpec{Name: "users"}); err != nil {
				t.Fatal(err)
			}
			f.settle()
			us.write(ref, Write{Kind: Insert, Key: "k", Doc: map[string]any{"a": json.Number("0"), "n": json.Number("10"), "s": "x"}})
			f.settle()
			for _, r := range f.regions {
				if d := r.docJSON(ref, "k"); d == nil || d["n"] != float64(10) {
					t.Fatalf("%s before the partition: %v", r.name, d)
				}
			}

			f.partition(true, []string{"us"}, []string{"eu"}, []string{"ap"})
			us.clock.Advance(time.Second)
			eu.clock.Advance(2 * time.Second) // eu's write of a is the later one
			us.write(ref, Write{Kind: Update, Key: "k", Doc: map[string]any{"a": json.Number("1"), "b": json.Number("1")}, KeepNull: true, MergeObjects: true})
			eu.write(ref, Write{Kind: Update, Key: "k", Doc: map[string]any{"a": json.Number("2")}, KeepNull: true, MergeObjects: true})
			us.write(ref, Write{Kind: Update, Key: "k", Doc: map[string]any{"n": map[string]any{"$inc": json.Number("1")}}, KeepNull: true, MergeObjects: true})
			eu.write(ref, Write{Kind: Update, Key: "k", Doc: map[string]any{"n": map[string]any{"$inc": json.Number("2")}}, KeepNull: true, MergeObjects: true})
			ap.write(ref, Write{Kind: Delete, Key: "k"})
			// Concurrent inserts of one key merge (rule 8).
			us.write(ref, Write{Kind: Insert, Key: "k2", Doc: map[string]any{"v": json.Number("1")}})
			eu.write(ref, Write{Kind: Insert, Key: "k2", Doc: map[string]any{"w": json.Number("2")}})
			// A document deleted in one region and updated in another comes
			// back holding the update only (rule 6).
			f.deliverAll()
			if d := ap.docJSON(ref, "k"); d != nil {
				t.Fatalf("ap sees k during the partition: %v", d)
			}

			f.heal()
			f.settle()
			want := map[string]any{"a": float64(2), "b": float64(1), "n": float64(3)}
			var rev, conflicts string
			for _, name := range geoRegions {
				r := f.regions[name]
				d := r.docJSON(ref, "k")
				if d == nil {
					t.Fatalf("%s: k is gone", name)
				}
				gotRev := d["_rev"].(string)
				delete(d, "_rev")
				delete(d, "_key")
				delete(d, "_id")
				if !reflect.DeepEqual(d, want) {
					t.Fatalf("%s: k = %v, want %v", name, d, want)
				}
				c := conflictsString(r, ref, "k")
				if c != "[a]=1@us;" {
					t.Fatalf("%s: conflicts %q", name, c)
				}
				if rev == "" {
					rev, conflicts = gotRev, c
				} else if gotRev != rev || c != conflicts {
					t.Fatalf("%s: rev %s conflicts %q, other region %s %q", name, gotRev, c, rev, conflicts)
				}
				d2 := r.docJSON(ref, "k2")
				if d2 == nil || d2["v"] != float64(1) || d2["w"] != float64(2) {
					t.Fatalf("%s: k2 = %v", name, d2)
				}
			}
			// Every region acknowledged everything: the ops are stable
			// everywhere and the next write compacts below them.
			for _, name := range geoRegions {
				r := f.regions[name]
				st := r.svc.seq.Stable(ref)
				for _, o := range geoRegions {
					if st.Get(o) == 0 && o != "ap" {
						t.Fatalf("%s: stable %s lacks %s", name, st, o)
					}
				}
			}
		})
	}
}

// TestGeoRandomPartitionsConverge writes random documents in three regions
// under random partitions (deliveries in a seeded random causal order),
// heals, and checks every region holds identical documents and conflicts,
// and that a counter only ever incremented lost no increment.
func TestGeoRandomPartitionsConverge(t *testing.T) {
	for seed := uint64(10); seed < 14; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Logf("seed %d (replay with -run %s)", seed, t.Name())
			f := newFakeFabric(t, seed, geoRegions...)
			rng := f.rng
			ref := sysRef("docs")
			if _, err := f.regions["eu"].svc.CreateCollection(naming.DefaultTenant, naming.SystemFabric, CollectionSpec{Name: "docs"}); err != nil {
				t.Fatal(err)
			}
			f.regions["eu"].write(ref, Write{Kind: Insert, Key: "counter"})
			f.settle()
			keys := []string{"a", "b", "c"}
			attrs := []string{"x", "y", "z"}
			increments := 0
			for round := range 4 {
				f.heal()
				for i, a := range geoRegions {
					for _, b := range geoRegions[i+1:] {
						if rng.IntN(2) == 0 {
							f.partition(true, []string{a}, []string{b})
						}
					}
				}
				for _, name := range geoRegions {
					r := f.regions[name]
					r.clock.Advance(time.Duration(rng.IntN(5)) * time.Millisecond)
					for range 6 {
						key := keys[rng.IntN(len(keys))]
						var w Write
						switch rng.IntN(5) {
						case 0:
							w = Write{Kind: Insert, Key: key, Overwrite: OverwriteReplace, Doc: map[string]any{attrs[rng.IntN(3)]: json.Number(fmt.Sprint(round))}}
						case 1:
							w = Write{Kind: Delete, Key: key}
						case 2:
							w = Write{Kind: Update, Key: key, Doc: map[string]any{attrs[rng.IntN(3)]: name + fmt.Sprint(round)}, KeepNull: true, MergeObjects: true}
						default:
							w = Write{Kind: Update, Key: "counter", Doc: map[string]any{"n": map[string]any{"$inc": json.Number("1")}}, KeepNull: true, MergeObjects: true}
							increments++
						}
						res, err := r.svc.Write(ref, []Write{w})
						if err != nil {
							t.Fatal(err)
						}
						if res[0].Err != nil && !errors.Is(res[0].Err, ErrDocumentNotFound) {
							t.Fatalf("%s: %+v: %v", name, w, res[0].Err)
						}
					}
				}
				for range rng.IntN(3) {
					f.deliverAll()
				}
			}
			f.heal()
			f.settle()
			for _, key := range append(keys, "counter") {
				var want, wantConflicts string
				for i, name := range geoRegions {
					r := f.regions[name]
					b, _, err := r.svc.Document(ref, key)
					if err != nil && !errors.Is(err, ErrDocumentNotFound) {
						t.Fatal(err)
					}
					c := conflictsString(r, ref, key)
					if i == 0 {
						want, wantConflicts = string(b), c
					} else if string(b) != want || c != wantConflicts {
						t.Fatalf("%s/%s: %s %q, %s: %s %q", name, key, b, c, geoRegions[0], want, wantConflicts)
					}
				}
			}
			d := f.regions["us"].docJSON(ref, "counter")
			if increments > 0 && (d == nil || d["n"] != float64(increments)) {
				t.Fatalf("counter %v after %d increments", d, increments)
			}
		})
	}
}
