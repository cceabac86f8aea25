package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/causeway/causeway/clients"
	"github.com/causeway/causeway/server/regionapi"
)

const nodeUsage = `Usage:
  causeway node drain  ID --url URL[,URL...]   (the region moves node ID's replicas to its other nodes)
  causeway node remove ID --url URL[,URL...]   (node ID leaves the region; refused while it holds replicas)

URL is any node of the region (several, comma-separated, are asked in turn); the
admin token comes from --token or $CAUSEWAY_TOKEN.
`

// runNode drains or removes a node of a region of several nodes through
// the region's admin API (regionapi.NodePath).
func runNode(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stdout, nodeUsage)
		return 0
	}
	if len(args) == 0 || (args[0] != "drain" && args[0] != "remove") {
		fmt.Fprint(stderr, nodeUsage)
		return 2
	}
	action := args[0]
	fs := flag.NewFlagSet("node "+action, flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "the region's nodes' HTTP base URLs, comma-separated (required)")
	token := fs.String("token", "", "admin token (default $CAUSEWAY_TOKEN)")
	if len(args) < 2 {
		fmt.Fprint(stderr, nodeUsage)
		return 2
	}
	id, err := strconv.ParseUint(args[1], 10, 64)
	if err != nil || id == 0 {
		fmt.Fprintf(stderr, "causeway node %s: node id %q: want a positive integer\n\n%s", action, args[1], nodeUsage)
		return 2
	}
	if err := fs.Parse(args[2:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 || *url == "" {
		fmt.Fprintf(stderr, "causeway node %s: give --url and nothing else after the node id\n\n%s", action, nodeUsage)
		return 2
	}
	urls, err := clients.ServiceURLs(*url)
	if err != nil {
		fmt.Fprintf(stderr, "causeway node %s: --url: %v\n", action, err)
		return 2
	}
	method, path := http.MethodPost, regionapi.NodePath+strconv.FormatUint(id, 10)+"/drain"
	if action == "remove" {
		method, path = http.MethodDelete, regionapi.NodePath+strconv.FormatUint(id, 10)
	}
	client := adminClient(*token)
	var last string
	for _, u := range urls {
		req, err := http.NewRequest(method, u+path, nil)
		if err != nil {
			last = err.Error()
			continue
		}
		resp, err := client.Do(req)
		if err != nil {
			last = err.Error()
			continue
		}
		var body struct {
			ErrorMessage string `json:"errorMessage"`
		}
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			if action == "drain" {
				fmt.Fprintf(stdout, "node %d is draining: its replicas move to the region's other nodes; `causeway status --url %s` shows them go, then run `causeway node remove %d`\n", id, *url, id)
			} else {
				fmt.Fprintf(stdout, "node %d left the region; stop its process\n", id)
			}
			return 0
		case resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusMisdirectedRequest:
			last = fmt.Sprintf("%s: %d %s", u, resp.StatusCode, body.ErrorMessage)
			continue // another node may answer
		default:
			fmt.Fprintf(stderr, "causeway node %s %d: %s answered %d: %s\n", action, id, u, resp.StatusCode, body.ErrorMessage)
			if resp.StatusCode == http.StatusUnauthorized {
				fmt.Fprintln(stderr, credentialsHint)
			}
			return 1
		}
	}
	fmt.Fprintf(stderr, "causeway node %s %d: no node of the region answered: %s\n", action, id, last)
	return 1
}
