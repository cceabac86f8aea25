package server

import (
	"errors"
	"slices"
	"testing"
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
		if !fi.Pinned || len(fi.Regions) == 0 || !slices.Contains(fi.Regions, fi.Home) || !slices.IsSorted(fi.Regions) {
			t.Fatalf("decoded %+v", fi)
		}
		for _, r := range fi.Regions {
			if !slices.Contains(deployment, r) {
				t.Fatalf("region %q outside the deployment", r)
			}
		}
	})
}
