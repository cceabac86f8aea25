package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRestartAtConsistentCut simulates what a crash can leave behind when
// journals are written in parallel: region a holds c's ops in its journal
// but lost the b ops they depend on (and its applied watermark). On
// restart a must count c's ops as not delivered (the consistent cut),
// receive b's and c's ops again, write c's journal records only once, and
// keep every stream exactly-once. (A crash only loses ops a never
// acknowledged; here a acknowledged them before the simulated loss, so b
// and c restart too, forgetting what a advertised.)
func TestRestartAtConsistentCut(t *testing.T) {
	f := newFabric(t, []string{"a", "b", "c"}, nil)
	f.publish("b", "s", "b", 0, 10)
	f.waitCount("s", 10)
	f.publish("c", "s", "c", 0, 10) // c's ops depend on b:10
	f.waitCount("s", 20)
	for _, r := range []string{"a", "b", "c"} {
		f.Stop(r)
	}
	dir := filepath.Join(f.Configs["a"].DataDir, "repl")
	if err := os.RemoveAll(filepath.Join(dir, "b")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "applied.json")); err != nil {
		t.Fatal(err)
	}
	f.Start("a")
	st, err := f.Server("a").Repl.Status()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Delivered) != 0 {
		t.Fatalf("a restarted with delivered %v, want nothing (c's ops depend on lost b ops)", st.Delivered)
	}
	f.Start("b")
	f.Start("c")
	f.publish("c", "s", "c", 10, 5)
	f.waitCount("s", 25)
	want := map[string][2]int{"b": {0, 10}, "c": {0, 15}}
	for _, r := range []string{"a", "b", "c"} {
		checkExactlyOnce(t, r, f.records(r, "s"), want)
	}
	st, err = f.Server("a").Repl.Status()
	if err != nil {
		t.Fatal(err)
	}
	if st.Delivered["b"] != 10 || st.Delivered["c"] != 15 || st.Shell.Rejournaled != 10 {
		t.Fatalf("delivered %v, journal writes skipped %d (want 10)", st.Delivered, st.Shell.Rejournaled)
	}
}
