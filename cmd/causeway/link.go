package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/causeway/causeway/replicator/shell"
)

// runDevLink is `causeway dev link down|up REGION REGION [--data DIR]`: it
// cuts or restores the link between two regions of the fabric that
// `causeway dev` runs, on both sides (each region's admin endpoint cuts
// its side in both directions).
func runDevLink(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dev link", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	data := fs.String("data", "causeway-dev", "data directory of the running causeway dev (holds fabric.json)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: causeway dev link down|up REGION REGION [--data DIR]")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return 0
	}
	fs.SetOutput(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "causeway dev link:", err)
		fs.Usage()
		return 2
	}
	if len(pos) != 3 || (pos[0] != "down" && pos[0] != "up") || pos[1] == pos[2] {
		fs.Usage()
		return 2
	}
	ff, err := readFabricFile(*data)
	if err != nil {
		fmt.Fprintln(stderr, "causeway dev link:", err)
		return 1
	}
	client := adminClient(ff.AdminKey)
	for _, pair := range [][2]string{{pos[1], pos[2]}, {pos[2], pos[1]}} {
		r, err := ff.region(pair[0])
		if err == nil {
			_, err = ff.region(pair[1])
		}
		if err == nil {
			err = setRegionLink(client, r, pair[1], pos[0])
		}
		if err != nil {
			fmt.Fprintln(stderr, "causeway dev link:", err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "link %s <-> %s: %s\n", pos[1], pos[2], pos[0])
	return 0
}

// setRegionLink cuts or restores the region's side of the link to peer on
// every node of the region: the one running the region's replication
// applies it, the others keep it for when the replication moves to them
// (a node restarted since starts with its links up). It fails only when
// no node took it.
func setRegionLink(client *http.Client, r fabricRegion, peer, state string) error {
	admins := []string{r.Admin}
	for _, n := range r.nodes() {
		if a := strings.TrimSuffix(n.HTTP, "/") + shell.AdminPath; n.HTTP != "" && a != r.Admin {
			admins = append(admins, a)
		}
	}
	var errs []error
	took := false
	for _, admin := range admins {
		if admin == "" {
			continue
		}
		err := setLink(client, admin, peer, state)
		if err == nil {
			took = true
			continue
		}
		errs = append(errs, err)
	}
	if took {
		return nil
	}
	return errors.Join(errs...)
}

// setLink posts to a region's admin endpoint.
func setLink(client *http.Client, admin, peer, state string) error {
	resp, err := client.Post(admin+"/links/"+peer+"/"+state, "application/json", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			ErrorMessage string `json:"errorMessage"`
		}
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e)
		return fmt.Errorf("%s/links/%s/%s: %s: %s", admin, peer, state, resp.Status, e.ErrorMessage)
	}
	return nil
}

// parseInterspersed parses flags given before, between or after the
// positional arguments, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
		if strings.HasPrefix(fs.Arg(0), "-") {
			return nil, fmt.Errorf("bad argument %q", fs.Arg(0))
		}
	}
}
