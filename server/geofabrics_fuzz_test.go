package server

import (
	"errors"
	"slices"
	"testing"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
)

// FuzzFabricEvent: a fabric event from a peer decodes to a valid pinned
// fabric of the deployment, or to errBadFabricEvent; never a panic.
func FuzzFabricEvent(f *testing.F) {
	deployment := []string{"ap-south", "eu-west", "us-east"}
	f.Add([]byte(`{"tenant":"_mm","fabric":"eu","regions":["eu-west","ap-south"],"home":"eu-west"}`))
	f.Add([]byte(`{"tenant":"_mm","fabric":"eu","regions":["mars"],"home":"mars"}`))
	f.Add([]byte(`{"tenant":"_mm","fabric":"eu","regions":[],"home":""}`))
	f.Add([]byte(`{"tenant":"../x","fabric":"eu","regions":["eu-west"],"home":"eu-west"}`))
	f.Add([]byte(`{"tenant":"_mm","fabric":"eu","regions":["eu-west"],"home":"us-east"}`))
	f.Add([]byte(`{"tenant":"_mm","fabric":"eu","regions":["eu-west","us-east"],"home":"eu-west","version":2}`))
	f.Add([]byte(`{"tenant":"_mm","fabric":"eu","regions":["eu-west"],"home":"eu-west","version":99999999999}`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte(`nope`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		fi, err := decodeFabricEvent(payload, deployment)
		if err != nil {
			if !errors.Is(err, errBadFabricEvent) {
				t.Fatalf("error %v is not errBadFabricEvent", err)
			}
			return
		}
		if fi.Version == 0 || fi.Version > maxFabricVersion || len(fi.Regions) == 0 || !slices.Contains(fi.Regions, fi.Home) || !slices.IsSorted(fi.Regions) {
			t.Fatalf("decoded %+v", fi)
		}
		for _, r := range fi.Regions {
			if !slices.Contains(deployment, r) {
				t.Fatalf("region %q outside the deployment", r)
			}
		}
	})
}

// FuzzBackfillPart: a backfill part from a peer decodes to a part of a
// valid fabric whose records belong to it, or to errBadBackfill; a decoded
// part encodes back to the same bytes.
func FuzzBackfillPart(f *testing.F) {
	recs := []segment.Record{{Key: "k", Payload: []byte("p"), Origin: "eu-west", OriginSeq: 3, Producer: "pr", SequenceID: 9,
		Properties: map[string]string{"a": "b"}}, {Payload: []byte("q"), Origin: "us-east@v2", OriginSeq: 1}}
	name := naming.Stream{Persistent: true, Tenant: "_mm", Fabric: "eu", Name: "s"}
	f.Add(encodeBackfill(backfillPart{Tenant: "_mm", Fabric: "eu", Version: 2, Kind: backfillStreams, Names: []naming.Stream{name, name}, Records: recs}))
	f.Add(encodeBackfill(backfillPart{Tenant: "_mm", Fabric: "eu", Version: 3, Kind: backfillCollections, Chunk: []byte("chunk")}))
	f.Add(encodeBackfill(backfillPart{Tenant: "_mm", Fabric: "eu", Version: 2, Kind: backfillEnd, Totals: [4]uint64{1, 2, 3, 4}}))
	f.Add([]byte("S"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, payload []byte) {
		p, err := decodeBackfill(payload)
		if err != nil {
			if !errors.Is(err, errBadBackfill) {
				t.Fatalf("error %v is not errBadBackfill", err)
			}
			return
		}
		for i, n := range p.Names {
			if n.Tenant != p.Tenant || n.Fabric != p.Fabric || p.Records[i].OriginSeq == 0 {
				t.Fatalf("record %d of %s in %s/%s", i, n, p.Tenant, p.Fabric)
			}
		}
		if p.Kind == backfillStreams {
			if again, err := decodeBackfill(encodeBackfill(p)); err != nil || len(again.Records) != len(p.Records) {
				t.Fatalf("re-encoded part does not decode: %v", err)
			}
		}
	})
}

// FuzzCutEvent: a cut from a peer is refused (errBadFabricEvent) unless
// it is the sending region's, of a real version; never a panic.
func FuzzCutEvent(f *testing.F) {
	f.Add([]byte(`{"tenant":"_mm","fabric":"eu","version":2,"region":"eu-west"}`), "eu-west")
	f.Add([]byte(`{"tenant":"_mm","fabric":"eu","version":1,"region":"eu-west"}`), "eu-west")
	f.Add([]byte(`{"tenant":"_mm","fabric":"eu","version":2,"region":"us-east"}`), "eu-west")
	f.Add([]byte(`[]`), "x")
	f.Fuzz(func(t *testing.T, payload []byte, origin string) {
		g := &geoFabrics{recs: map[string]*fabricRecord{}}
		if err := g.applyCut(origin, 1, payload); err == nil || !errors.Is(err, errBadFabricEvent) {
			// No fabric is known: every cut is refused.
			t.Fatalf("cut %q from %q: %v", payload, origin, err)
		}
	})
}
