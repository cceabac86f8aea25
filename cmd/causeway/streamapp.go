package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/causeway/causeway/clients"
)

const streamAppUsage = `Usage:
  causeway streamapp create     --name N (--query SQL | --file F) [--regions R1,R2] [--active] [--start earliest|latest]
  causeway streamapp update     --name N (--query SQL | --file F) [--regions R1,R2]
  causeway streamapp list
  causeway streamapp get        --name N
  causeway streamapp delete     --name N
  causeway streamapp activate   --name N
  causeway streamapp deactivate --name N
  causeway streamapp dry-run    (--query SQL | --file F) [--stream S] [--last 100]

Every command takes --url URL (a node of the region, default http://127.0.0.1:8080;
several, comma-separated, are asked in turn), --fabric F (default _system), --tenant T (default: the key's) and
--token T (default $CAUSEWAY_TOKEN). Stream workers are continuous queries in
streaming SQL (streamworkers/engine/LANGUAGE.md); README "Stream workers".
`

// runStreamApp manages stream workers through a node's HTTP API
// (/_fabric/{fabric}/_api/streamapps, package streamworkers).
func runStreamApp(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stdout, streamAppUsage)
		return 0
	}
	actions := []string{"create", "update", "list", "get", "delete", "activate", "deactivate", "dry-run"}
	if len(args) == 0 || !slices.Contains(actions, args[0]) {
		if len(args) > 0 {
			fmt.Fprintf(stderr, "causeway streamapp: unknown action %q\n\n", args[0])
		}
		fmt.Fprint(stderr, streamAppUsage)
		return 2
	}
	action := args[0]
	fs := flag.NewFlagSet("streamapp "+action, flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), streamAppUsage) }
	urlFlag := fs.String("url", "http://127.0.0.1:8080", "a node's HTTP base URL (several, comma-separated, are asked in turn)")
	token := fs.String("token", "", "API key or token (default $"+tokenEnv+")")
	fabric := fs.String("fabric", "_system", "the fabric")
	tenant := fs.String("tenant", "", "the tenant (default: the key's)")
	name := fs.String("name", "", "the stream worker's name")
	query := fs.String("query", "", "the query (streaming SQL)")
	file := fs.String("file", "", "read the query from this file (- for stdin)")
	regions := fs.String("regions", "", "pin the worker to these regions of the fabric, comma-separated (default: every region)")
	active := fs.Bool("active", false, "create: start it at once")
	start := fs.String("start", "", "create: where a new worker starts reading its inputs, earliest (default) or latest")
	stream := fs.String("stream", "", "dry-run: run over this input only")
	last := fs.Int("last", 0, "dry-run: how many of the newest messages of each input (default 100)")
	if code, goOn := parseArgs(fs, args[1:], stdout, stderr); !goOn {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "causeway streamapp %s: "+format+"\n", append([]any{action}, a...)...)
		return 2
	}
	urls, err := clients.ServiceURLs(*urlFlag)
	if err != nil {
		return fail("--url: %v", err)
	}
	needsName := action != "list" && action != "dry-run"
	if needsName && *name == "" {
		return fail("--name is required")
	}
	if !needsName && *name != "" {
		return fail("--name is not taken by %s", action)
	}
	q := *query
	if *file != "" {
		if q != "" {
			return fail("give --query or --file, not both")
		}
		var b []byte
		if *file == "-" {
			b, err = io.ReadAll(io.LimitReader(stdin, 1<<20))
		} else {
			b, err = os.ReadFile(*file)
		}
		if err != nil {
			return fail("--file: %v", err)
		}
		q = string(b)
	}
	takesQuery := action == "create" || action == "update" || action == "dry-run"
	if takesQuery && q == "" {
		return fail("--query or --file is required")
	}
	if !takesQuery && q != "" {
		return fail("--query and --file are not taken by %s", action)
	}
	if (*regions != "" || *start != "") && action != "create" && action != "update" {
		return fail("--regions and --start are taken by create and update only")
	}
	if *active && action != "create" {
		return fail("--active is taken by create only (see activate)")
	}
	if (*stream != "" || *last != 0) && action != "dry-run" {
		return fail("--stream and --last are taken by dry-run only")
	}

	base := "/_fabric/" + url.PathEscape(*fabric) + "/_api/streamapps"
	if *tenant != "" {
		base = "/_tenant/" + url.PathEscape(*tenant) + base
	}
	var method, path string
	var body any
	var pin []string
	if *regions != "" {
		pin = strings.Split(*regions, ",")
	}
	switch action {
	case "create":
		method, path = http.MethodPost, base
		body = map[string]any{"name": *name, "definition": q, "regions": pin, "isActive": *active, "start": *start}
	case "update":
		method, path = http.MethodPut, base+"/"+url.PathEscape(*name)
		b := map[string]any{"definition": q, "start": *start}
		if pin != nil {
			b["regions"] = pin
		}
		body = b
	case "list":
		method, path = http.MethodGet, base
	case "get":
		method, path = http.MethodGet, base+"/"+url.PathEscape(*name)
	case "delete":
		method, path = http.MethodDelete, base+"/"+url.PathEscape(*name)
	case "activate", "deactivate":
		method, path = http.MethodPatch, base+"/"+url.PathEscape(*name)+"/active?active="+fmt.Sprint(action == "activate")
	case "dry-run":
		method, path = http.MethodPost, base+"/query/dry-run"
		body = map[string]any{"query": q, "stream": *stream, "last": *last}
	}
	var payload []byte
	if body != nil {
		payload, _ = json.Marshal(body) // strings, slices, bools and ints: cannot fail
	}
	client := adminClient(*token)
	var lastErr error
	for _, u := range urls {
		var rd io.Reader
		if payload != nil {
			rd = bytes.NewReader(payload)
		}
		req, err := http.NewRequest(method, u+path, rd)
		if err != nil {
			return fail("%v", err)
		}
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		out, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if err != nil {
			lastErr = err
			continue
		}
		if resp.StatusCode == http.StatusServiceUnavailable {
			lastErr = fmt.Errorf("%s answered %s: %s", u, resp.Status, streamAppError(out))
			continue
		}
		if resp.StatusCode/100 != 2 {
			printFailure(stderr, "streamapp "+action, statusError(resp.StatusCode, resp.Status, streamAppError(out)))
			return 1
		}
		var pretty bytes.Buffer
		if json.Indent(&pretty, out, "", "  ") != nil {
			pretty.Reset()
			pretty.Write(out)
		}
		fmt.Fprintln(stdout, strings.TrimRight(pretty.String(), "\n"))
		return 0
	}
	printFailure(stderr, "streamapp "+action, fmt.Errorf("no node answered: %w", lastErr))
	return 1
}

// streamAppError is the errorMessage of a JSON error answer, else the body.
func streamAppError(body []byte) string {
	var e struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(body, &e) == nil && e.ErrorMessage != "" {
		return e.ErrorMessage
	}
	return strings.TrimSpace(string(body))
}
