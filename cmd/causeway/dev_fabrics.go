package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/server"
)

// devFabric is a fabric `causeway dev --fabric NAME=R1,R2` pins to regions.
type devFabric struct {
	name    string
	regions []string
}

// devFabrics collects the repeated --fabric flag.
type devFabrics []devFabric

func (d *devFabrics) String() string {
	var parts []string
	for _, f := range *d {
		parts = append(parts, f.name+"="+strings.Join(f.regions, ","))
	}
	return strings.Join(parts, " ")
}

// Set parses NAME=R1,R2.
func (d *devFabrics) Set(v string) error {
	name, list, ok := strings.Cut(v, "=")
	if !ok || name == "" || list == "" {
		return fmt.Errorf("want NAME=REGION[,REGION...], got %q", v)
	}
	if err := naming.Validate("fabric", name); err != nil {
		return err
	}
	var regions []string
	for _, r := range strings.Split(list, ",") {
		if r = strings.TrimSpace(r); r == "" {
			return fmt.Errorf("%q: an empty region name", v)
		}
		regions = append(regions, r)
	}
	*d = append(*d, devFabric{name: name, regions: regions})
	return nil
}

// registerDevFabrics declares --fabric.
func registerDevFabrics(fs *flag.FlagSet) *devFabrics {
	d := &devFabrics{}
	fs.Var(d, "fabric", "create a fabric pinned to some regions, NAME=REGION[,REGION...] (repeatable): its data stays in those regions; several regions of one node each")
	return d
}

// check refuses --fabric where pinned fabrics are not built.
func (d devFabrics) check(plan devPlan) error {
	if len(d) > 0 && (!plan.geo || plan.nodes > 1) {
		return fmt.Errorf("--fabric pins a fabric to some of several regions of one node each (regions of several nodes: not built yet)")
	}
	return nil
}

// create pins every fabric through the first region's node, then waits
// until every region knows it.
func (d devFabrics) create(first *server.Server, all []*server.Server) error {
	for _, f := range d {
		if _, err := first.Node.CreateFabricIn(naming.DefaultTenant, f.name, f.regions); err != nil {
			return fmt.Errorf("--fabric %s: %w", f.name, err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for _, s := range all {
			for {
				if fi, ok := s.Node.Fabric(naming.DefaultTenant, f.name); ok && fi.Pinned {
					break
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("--fabric %s: region %s did not learn it within 30s", f.name, s.Node.Config().Region)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	return nil
}

// print says where each pinned fabric lives.
func (d devFabrics) print(w io.Writer, first *server.Server) {
	if len(d) == 0 {
		return
	}
	fmt.Fprintln(w, "\nFabrics pinned to regions (their data stays there; elsewhere requests get 421 naming them):")
	for _, f := range d {
		fi, _ := first.Node.Fabric(naming.DefaultTenant, f.name)
		fmt.Fprintf(w, "  %-12s %s  (streams: /ws/v2/producer/persistent/%s/%s/STREAM on a node of one of them)\n", f.name,
			strings.Join(fi.Regions, ", "), naming.DefaultTenant, f.name)
	}
}
