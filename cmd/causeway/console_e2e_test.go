package main

import (
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/causeway/causeway/internal/testnet"
)

// TestDevServesTheConsole runs `causeway dev` and fetches the console from
// the URL its banner prints, and from every region's node; with
// --console=false no node serves it.
func TestDevServesTheConsole(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := causewayBinary(t)
	banner := regexp.MustCompile(`Web console: (http://\S+/console/)`)
	for _, on := range []bool{true, false} {
		dir := t.TempDir()
		var out, errOut syncBuffer
		ports := testnet.FreeRanges(t, 2, 2) // replication, SPOT
		cmd := exec.Command(bin, "dev", "--regions", "us-east,eu-west", "--data", dir, "--http-port", "0", "--kafka-port", "-1",
			"--repl-port", strconv.Itoa(ports[0]), "--spot-replicas", "1", "--spot-port", strconv.Itoa(ports[1]),
			"--fsync", "never", "--console="+strconv.FormatBool(on))
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(geoTimeout)
		for !strings.Contains(out.String(), "Stop with Ctrl-C") {
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatalf("no banner:\n%s\n%s", out.String(), errOut.String())
			}
			time.Sleep(20 * time.Millisecond) // pacing a check with a deadline
		}
		time.Sleep(100 * time.Millisecond) // the rest of the banner
		ff, err := readFabricFile(dir)
		if err != nil {
			_ = cmd.Process.Kill()
			t.Fatal(err)
		}
		m := banner.FindStringSubmatch(out.String())
		if on != (m != nil) {
			_ = cmd.Process.Kill()
			t.Fatalf("console %v: banner:\n%s", on, out.String())
		}
		urls := []string{}
		if m != nil {
			urls = append(urls, m[1])
		}
		for _, r := range ff.Regions {
			urls = append(urls, strings.TrimSuffix(r.HTTP, "/")+"/console/")
		}
		for _, u := range urls {
			res, err := http.Get(u) // no credential: the page is public
			if err != nil {
				_ = cmd.Process.Kill()
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			served := res.StatusCode == 200 && strings.Contains(string(body), "js/app.js")
			if served != on {
				_ = cmd.Process.Kill()
				t.Fatalf("console %v: GET %s: %d %.200s", on, u, res.StatusCode, body)
			}
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}
