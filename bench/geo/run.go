package geo

import (
	"context"
	"fmt"
	"strings"

	"github.com/causeway/causeway/bench/pubsub"
	"github.com/causeway/causeway/bench/report"
	"github.com/causeway/causeway/bench/target/causewayws"
)

// Config is the geo workload: the pubsub workload, published in From and
// consumed in every other region (and in From too with IncludeHome).
type Config struct {
	Workload    pubsub.Config
	From        string // default: the first region
	IncludeHome bool
	// WAN describes the emulated WAN when the fabric description does not
	// (e.g. flags given to causeway dev); recorded in the report.
	WAN            string
	Tenant, Fabric string
	Token          string // authenticates every request
	// Binary speaks causeway-binary-v1 instead of Pulsar's JSON frames.
	Binary bool
}

// Run runs the workload on the fabric and reports lag per region pair.
func Run(ctx context.Context, fab Fabric, cfg Config) (report.Report, error) {
	if err := fab.Validate(); err != nil {
		return report.Report{}, err
	}
	if cfg.From == "" {
		cfg.From = fab.Regions[0].Name
	}
	home, ok := fab.Region(cfg.From)
	if !ok {
		return report.Report{}, fmt.Errorf("geo: region %q is not in the fabric (%s)", cfg.From, strings.Join(fab.Names(), ", "))
	}
	opts := causewayws.Options{Tenant: cfg.Tenant, Fabric: cfg.Fabric, Global: true, Token: cfg.Token, Binary: cfg.Binary}
	source, err := causewayws.New(home.HTTP, opts)
	if err != nil {
		return report.Report{}, err
	}
	defer source.Close()
	var sinks []pubsub.Sink
	for _, r := range fab.Regions {
		if r.Name == home.Name {
			if cfg.IncludeHome {
				sinks = append(sinks, pubsub.Sink{Region: r.Name, Target: source})
			}
			continue
		}
		t, err := causewayws.New(r.HTTP, opts)
		if err != nil {
			return report.Report{}, err
		}
		defer t.Close()
		sinks = append(sinks, pubsub.Sink{Region: r.Name, Target: t})
	}
	w := cfg.Workload
	if w.StreamPrefix == "" {
		w.StreamPrefix = "bench-geo"
	}
	extra := map[string]string{"regions": strings.Join(fab.Names(), ","), "publish region": home.Name}
	for k, v := range w.Extra {
		extra[k] = v
	}
	wan := fab.WAN
	if cfg.WAN != "" {
		wan = cfg.WAN
	}
	if wan == "" {
		wan = "not recorded"
	}
	extra["wan"] = wan
	w.Extra = extra
	rep, err := pubsub.RunFabric(ctx, source, home.Name, sinks, w)
	if err != nil {
		return rep, err
	}
	rep.Scenario = "geo"
	return rep, nil
}
