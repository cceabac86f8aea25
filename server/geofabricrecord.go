package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/vfs"
	"github.com/causeway/causeway/replicator/fabric"
)

// fabricRecord is what a region keeps of a pinned fabric's region lists
// and of their changes (README "Geo-fabrics"): every version's list, the
// cuts applied here, and what this region did for each change. It is the
// durable input the router (replicator/fabric) is rebuilt from after a
// restart; each change is saved (synced) before it takes effect.
type fabricRecord struct {
	Tenant string `json:"tenant"`
	Fabric string `json:"fabric"`
	Home   string `json:"home"`
	// Versions[i] is the sorted region list of version i+1.
	Versions [][]string `json:"versions"`
	// Cuts[v] are the regions whose cut for version v (the end of their
	// ops of version v-1) applied here.
	Cuts map[uint64][]string `json:"cuts,omitempty"`
	// CutsSent are the versions whose cut this region published.
	CutsSent []uint64 `json:"cutsSent,omitempty"`
	// Backfilled are the versions whose backfill this region applied;
	// BackfillsSent (the home) those whose backfill it published whole.
	Backfilled    []uint64 `json:"backfilled,omitempty"`
	BackfillsSent []uint64 `json:"backfillsSent,omitempty"`
	// Forgotten are the versions that removed this region once the
	// fabric's data here is deleted; Deleted those whose removal is
	// complete here (nothing of the fabric can reach this region any
	// more: its domains here are gone too).
	Forgotten []uint64 `json:"forgotten,omitempty"`
	Deleted   []uint64 `json:"deleted,omitempty"`
}

// fabricKey names a fabric in the geo-fabrics' maps and the router.
func fabricKey(tenant, name string) string { return tenant + "/" + name }

func (r *fabricRecord) key() string { return fabricKey(r.Tenant, r.Fabric) }

// latest is the latest version (0: none).
func (r *fabricRecord) latest() uint64 { return uint64(len(r.Versions)) }

// regions is version v's list (nil outside 1..latest).
func (r *fabricRecord) regions(v uint64) []string {
	if v == 0 || v > r.latest() {
		return nil
	}
	return r.Versions[v-1]
}

// member reports whether region is in version v's list.
func (r *fabricRecord) member(v uint64, region string) bool {
	return slices.Contains(r.regions(v), region)
}

// membership is version v as the router takes it.
func (r *fabricRecord) membership(v uint64) fabric.Membership {
	return fabric.Membership{Fabric: r.key(), Version: v, Regions: slices.Clone(r.regions(v)), Home: r.Home}
}

// added are the regions of version v that were not in v-1.
func (r *fabricRecord) added(v uint64) []string {
	var out []string
	for _, x := range r.regions(v) {
		if v > 1 && !r.member(v-1, x) {
			out = append(out, x)
		}
	}
	return out
}

// removedAt is the latest version that removed region from the list
// (0: none).
func (r *fabricRecord) removedAt(region string) uint64 {
	for v := r.latest(); v >= 2; v-- {
		if r.member(v-1, region) && !r.member(v, region) {
			return v
		}
	}
	return 0
}

// lastDeleted is the latest version whose removal of this region is
// complete here (0: none).
func (r *fabricRecord) lastDeleted() uint64 {
	if len(r.Deleted) == 0 {
		return 0
	}
	return slices.Max(r.Deleted)
}

// clone is a deep copy: a change is made on it, saved, then swapped in.
func (r *fabricRecord) clone() fabricRecord {
	c := *r
	c.Versions = slices.Clone(r.Versions)
	c.Cuts = make(map[uint64][]string, len(r.Cuts)+1)
	for v, rs := range r.Cuts {
		c.Cuts[v] = slices.Clone(rs)
	}
	c.CutsSent, c.Backfilled, c.BackfillsSent = slices.Clone(r.CutsSent), slices.Clone(r.Backfilled), slices.Clone(r.BackfillsSent)
	c.Forgotten, c.Deleted = slices.Clone(r.Forgotten), slices.Clone(r.Deleted)
	return c
}

// addCut records region's cut for version v; it reports whether it is new.
func (r *fabricRecord) addCut(v uint64, region string) bool {
	if slices.Contains(r.Cuts[v], region) {
		return false
	}
	if r.Cuts == nil {
		r.Cuts = make(map[uint64][]string)
	}
	r.Cuts[v] = append(r.Cuts[v], region)
	slices.Sort(r.Cuts[v])
	return true
}

// addVersion appends a version to a set of them (no duplicates).
func addVersion(set *[]uint64, v uint64) bool {
	if slices.Contains(*set, v) {
		return false
	}
	*set = append(*set, v)
	slices.Sort(*set)
	return true
}

// fabricRecords keeps the records as one JSON file per fabric under dir,
// on the node's file system.
type fabricRecords struct {
	fs  vfs.FS
	dir string
}

func (fr fabricRecords) path(tenant, name string) string {
	return filepath.Join(fr.dir, tenant+"~"+name+".json")
}

// save writes a record durably (vfs.WriteFileAtomic).
func (fr fabricRecords) save(r *fabricRecord) error {
	if err := fr.fs.MkdirAll(fr.dir, 0o755); err != nil {
		return fmt.Errorf("geofabrics: record directory: %w", err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := vfs.WriteFileAtomic(fr.fs, fr.path(r.Tenant, r.Fabric), b, 0o644); err != nil {
		return fmt.Errorf("geofabrics: save record of %s: %w", r.key(), err)
	}
	return nil
}

// load reads every record.
func (fr fabricRecords) load() ([]*fabricRecord, error) {
	names, err := fr.fs.ReadDir(fr.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("geofabrics: read records: %w", err)
	}
	var out []*fabricRecord
	for _, name := range names {
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		b, err := vfs.ReadFile(fr.fs, filepath.Join(fr.dir, name))
		if err != nil {
			return nil, fmt.Errorf("geofabrics: read record %s: %w", name, err)
		}
		var r fabricRecord
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("geofabrics: record %s: %w", name, err)
		}
		if naming.Validate("tenant", r.Tenant) != nil || naming.Validate("fabric", r.Fabric) != nil || len(r.Versions) == 0 {
			return nil, fmt.Errorf("geofabrics: record %s names %q/%q with %d versions", name, r.Tenant, r.Fabric, len(r.Versions))
		}
		out = append(out, &r)
	}
	return out, nil
}
