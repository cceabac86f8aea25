package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/server/regionapi"
)

// fetchRegionView asks a node for GET /_api/region/state. many is false
// when the node is a region of one node (404: it has no region group).
func fetchRegionView(client *http.Client, base string) (v regionapi.View, many bool, err error) {
	var out struct {
		Result       regionapi.View `json:"result"`
		ErrorMessage string         `json:"errorMessage"`
	}
	resp, err := client.Get(base + regionapi.StatePath)
	if err != nil {
		return v, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return v, false, nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&out); err != nil {
		return v, false, fmt.Errorf("%s: %w", resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK {
		return v, false, statusError(resp.StatusCode, resp.Status, out.ErrorMessage)
	}
	return out.Result, true, nil
}

// regionViews asks each group of base URLs (the nodes of one region, in
// order) for its region's view, the first node that answers for the
// region; regions of one node are left out. Errors name the nodes asked.
func regionViews(client *http.Client, groups [][]string) ([]regionapi.View, []error) {
	var views []regionapi.View
	var errs []error
	seen := map[string]bool{}
	for _, urls := range groups {
		var failed []string
		for _, u := range urls {
			v, many, err := fetchRegionView(client, strings.TrimSuffix(u, "/"))
			if err != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", u, err))
				continue
			}
			if many && !seen[v.Region] {
				seen[v.Region] = true
				views = append(views, v)
			}
			failed = nil
			break
		}
		if len(failed) > 0 {
			errs = append(errs, fmt.Errorf("region state: %s", strings.Join(failed, "; ")))
		}
	}
	return views, errs
}

// printRegions shows, for every region of several nodes, its nodes, who
// leads the metadata group, who owns what and the replication state.
func printRegions(w io.Writer, views []regionapi.View) {
	for _, v := range views {
		leader := "no leader known (an election, or no quorum)"
		if v.MetaLeader != 0 {
			leader = fmt.Sprintf("led by node %d", v.MetaLeader)
		}
		fmt.Fprintf(w, "\nregion %s: %d nodes; metadata group %s (as node %d sees it, index %d)\n", v.Region, len(v.Nodes), leader, v.Node, v.Applied)
		tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
		fmt.Fprintln(tw, "node\tstatus\tincarnation\thttp\traft\tdata address\tunits led")
		leads := map[region.NodeID]int{}
		for _, u := range v.Units {
			leads[u.Leader]++
		}
		for _, n := range v.Nodes {
			id := strconv.FormatUint(uint64(n.ID), 10)
			if n.ID == v.MetaLeader {
				id += " (group leader)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%x\t%s\t%s\t%s\t%d\n", id, n.Status, n.Incarnation, n.Addrs.HTTP, n.Addrs.Raft, n.Addrs.Data, leads[n.ID])
		}
		_ = tw.Flush()
		if len(v.Units) == 0 {
			fmt.Fprintln(w, "units: none (no persistent stream yet, or its nodes are metadata-only)")
			continue
		}
		tw = tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
		fmt.Fprintln(tw, "unit\tleader\tepoch\treplicas\tin sync\treplication")
		for _, u := range v.Units {
			leader := strconv.FormatUint(uint64(u.Leader), 10)
			if u.Leader == 0 {
				leader = "none (offline)"
			}
			var inSync []region.NodeID
			for _, m := range u.InSync {
				inSync = append(inSync, m.Node)
			}
			min := u.Factor/2 + 1
			state := fmt.Sprintf("%d of %d in sync", len(u.InSync), u.Factor)
			if len(u.InSync) < min {
				state += fmt.Sprintf(", below %d: writes wait", min)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", u.ID, leader, u.Epoch, nodeList(u.Replicas), nodeList(inSync), state)
		}
		_ = tw.Flush()
	}
}

func nodeList(ids []region.NodeID) string {
	if len(ids) == 0 {
		return "-"
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatUint(uint64(id), 10)
	}
	return strings.Join(parts, ",")
}
