package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/causeway/causeway/clients"
	"github.com/causeway/causeway/replicator/shell"
)

// urlList collects repeated --url flags.
type urlList []string

func (u *urlList) String() string     { return strings.Join(*u, ",") }
func (u *urlList) Set(s string) error { *u = append(*u, s); return nil }

// runStatus is `causeway status [--data DIR | --url URL ...]`: it asks
// every region for its replication status and prints the lag of every
// region pair (how far the second region is behind the first on the
// first's messages) and each region's delivered vector; then, for every
// region of several nodes, its nodes, the metadata group's leader, who
// owns what and the replication state inside the region
// (region_status.go). A --url may list a region's nodes separated by
// commas (as the client's service URL does): they are asked in turn until
// one answers.
func runStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "causeway-dev", "data directory of a running causeway dev (holds fabric.json)")
	var urls urlList
	fs.Var(&urls, "url", "a region's HTTP base URL, or its nodes' separated by commas (repeatable, one per region; instead of --data)")
	tokenFlag := fs.String("token", "", "with --url: an admin API key or token (default $"+tokenEnv+"; with --data the key in fabric.json)")
	if code, goOn := parseArgs(fs, args, stdout, stderr); !goOn {
		return code
	}
	var token string
	var nodeGroups [][]string // per region, its nodes' URLs to ask in turn
	if len(urls) == 0 {
		ff, err := readFabricFile(*data)
		if err != nil {
			fmt.Fprintln(stderr, "causeway status:", err)
			return 1
		}
		for _, r := range ff.Regions {
			group := []string{r.HTTP}
			for _, n := range r.nodes() {
				if n.HTTP != r.HTTP {
					group = append(group, n.HTTP)
				}
			}
			nodeGroups = append(nodeGroups, group)
		}
		token = ff.AdminKey
	} else {
		token = *tokenFlag
		if token == "" {
			token = os.Getenv(tokenEnv)
		}
		for _, u := range urls {
			group, err := clients.ServiceURLs(u)
			if err != nil {
				fmt.Fprintln(stderr, "causeway status: --url:", err)
				return 2
			}
			nodeGroups = append(nodeGroups, group)
		}
	}
	client := adminClient(token)
	var all []shell.Status
	var single []string // nodes without geo-replication
	code := 0
	refused := false
	for _, group := range nodeGroups {
		var failed []string
		groupRefused := false
		for _, u := range group {
			st, err := fetchStatus(client, strings.TrimSuffix(u, "/"))
			if errors.Is(err, errNoReplication) {
				single = append(single, u)
			} else if err != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", u, err))
				groupRefused = groupRefused || refusedCredentials(err)
				continue
			} else {
				all = append(all, st)
			}
			failed = nil
			break
		}
		if len(failed) > 0 {
			fmt.Fprintf(stderr, "causeway status: %s\n", strings.Join(failed, "; "))
			code = 1
		}
		refused = refused || len(failed) > 0 && groupRefused
	}
	printStatus(stdout, all)
	for _, u := range single {
		fmt.Fprintf(stdout, "%s: %v\n", u, errNoReplication)
	}
	views, errs := regionViews(client, nodeGroups)
	for _, err := range errs {
		fmt.Fprintln(stderr, "causeway status:", err)
		refused = refused || refusedCredentials(err)
		code = 1
	}
	if refused {
		fmt.Fprintln(stderr, credentialsHint)
	}
	printRegions(stdout, views)
	return code
}

// errNoReplication: the node answers 404 on the replication admin path.
var errNoReplication = errors.New("no geo-replication (a fabric of one region)")

func fetchStatus(client *http.Client, base string) (shell.Status, error) {
	var out struct {
		Result       shell.Status `json:"result"`
		ErrorMessage string       `json:"errorMessage"`
	}
	resp, err := client.Get(base + shell.AdminPath)
	if err != nil {
		return out.Result, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return out.Result, errNoReplication
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&out); err != nil {
		return out.Result, fmt.Errorf("%s: %w", resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK {
		return out.Result, statusError(resp.StatusCode, resp.Status, out.ErrorMessage)
	}
	return out.Result, nil
}

// printStatus prints the lag table and delivered vectors; nothing when no
// region has geo-replication (a fabric of one region).
func printStatus(w io.Writer, all []shell.Status) {
	if len(all) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "from\tto\tlag (ops)\tlag (ms)\tlink")
	for _, st := range all {
		for _, p := range st.Peers {
			ms := fmt.Sprintf("%.0f", p.LagMillis)
			if !p.LagKnown {
				ms = "?"
			}
			lag := p.LagOps
			link := "up"
			switch {
			case p.Link.Down:
				link = "down (cut)"
			case !p.Link.Connected:
				link = "disconnected"
			}
			if link != "up" {
				// Its acks cannot reach this region: a region relaying
				// this region's ops to the peer knows how far it got.
				if r := routeOf(all, st.Region, p.Peer); r.via != "" {
					link += ", relayed via " + r.via
					lag = r.lagOps
					if lag == 0 {
						ms = "0"
					} else {
						ms = "?"
					}
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", st.Region, p.Peer, lag, ms, link)
		}
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	for _, st := range all {
		var parts []string
		for _, r := range st.Regions {
			parts = append(parts, fmt.Sprintf("%s=%d", r, st.Delivered[r]))
		}
		slices.Sort(parts)
		line := fmt.Sprintf("%s delivered: %s", st.Region, strings.Join(parts, " "))
		if !st.Joined {
			line += fmt.Sprintf("   JOINING (recovered %d of its own ops so far)", st.Engine.RecoveredOwnOps)
		}
		if st.Failed != "" {
			line += "   FAILED: " + st.Failed
		}
		fmt.Fprintln(w, line)
	}
}
