//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestREADMECommandsRun runs every ```sh block of the READMEs that has no
// "not run" mark, verbatim, with bash, as a reader would after the one
// `export CAUSEWAY_TOKEN=...` the node tells them to do: the blocks without
// a mark against one `causeway serve` node (authentication on, Kafka on
// 127.0.0.1:9092), the others against the `causeway dev` their mark names,
// started once for all its blocks. Against each `causeway dev` it also runs
// the commands its banner prints (the tour and the SPOT tour). A block
// fails on a non-zero exit: bash runs it with -e and pipefail, and curl
// with --fail-with-body.
//
// The READMEs use fixed ports (8080, 9092, ...), so the test runs itself
// again inside new user and network namespaces (unshare -rn), where those
// ports are free whatever else runs on the machine.
func TestREADMECommandsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nodes and fabrics")
	}
	if os.Getenv(readmeInNetnsEnv) == "" {
		runInOwnNetns(t)
		return
	}
	for _, tool := range []string{"bash", "curl", "jq", "kcat"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the READMEs' examples use %s: %v", tool, err)
		}
	}
	bin := os.Getenv(readmeBinEnv)
	work := t.TempDir()
	if err := copyExecutable(bin, filepath.Join(work, "causeway")); err != nil {
		t.Fatal(err)
	}
	var onServe []shBlock
	var devArgs []string // in order of first use
	onDev := map[string][]shBlock{}
	for _, b := range readmeBlocks(t) {
		switch {
		case b.notRun != "":
			t.Logf("%s not run: %s", b, b.notRun)
		case b.onDev:
			if _, ok := onDev[b.devArgs]; !ok {
				devArgs = append(devArgs, b.devArgs)
			}
			onDev[b.devArgs] = append(onDev[b.devArgs], b)
		default:
			onServe = append(onServe, b)
		}
	}
	for _, args := range devBannersChecked {
		if _, ok := onDev[args]; !ok {
			devArgs = append(devArgs, args)
			onDev[args] = nil
		}
	}
	t.Run("serve", func(t *testing.T) {
		p := startReadmeProcess(t, work, "./causeway", "serve", "--data", "./causeway-data", "--http", "127.0.0.1:8080", "--kafka", "127.0.0.1:9092")
		export := p.waitFor(t, exportLine, 90*time.Second)
		waitListening(t, "127.0.0.1:8080", time.Minute)
		for _, b := range onServe {
			runReadmeBlock(t, work, b.String(), export, b.text)
		}
		p.stop(t)
	})
	for _, args := range devArgs {
		t.Run(strings.TrimSpace("dev "+args), func(t *testing.T) {
			if err := os.RemoveAll(filepath.Join(work, "causeway-dev")); err != nil {
				t.Fatal(err)
			}
			p := startReadmeProcess(t, work, "./causeway", append([]string{"dev"}, strings.Fields(args)...)...)
			export := p.waitFor(t, exportLine, 3*time.Minute)
			if devRegions(args) > 1 {
				p.waitFor(t, spotTourEnd, time.Minute)
			}
			banner := p.output()
			waitDevReady(t, work, export)
			for _, b := range onDev[args] {
				runReadmeBlock(t, work, b.String(), export, b.text)
			}
			tour, spotTour := bannerCommands(banner)
			if tour == "" {
				t.Fatalf("the banner has no commands to try:\n%s", banner)
			}
			runReadmeBlock(t, work, "banner tour", export, tour)
			if spotTour != "" {
				runReadmeBlock(t, work, "banner SPOT tour", export, spotTour)
			}
			p.stop(t)
		})
	}
}

// devBannersChecked are the `causeway dev` arguments whose banners the
// test runs besides those of the READMEs' marks: every kind of banner
// (several regions, one region of several nodes, several regions of
// several nodes) is run.
var devBannersChecked = []string{"", "--regions us-east --nodes 3", "--regions us-east,eu-west --nodes 3"}

const (
	readmeInNetnsEnv = "CAUSEWAY_README_TEST_NETNS" // set: this process runs in its own namespaces
	readmeBinEnv     = "CAUSEWAY_README_TEST_BIN"   // the causeway binary built by the outer process
)

var (
	exportLine = regexp.MustCompile(`export CAUSEWAY_TOKEN=\S+\n`)
	// The last line of the banner of a dev of several regions: its SPOT
	// tour's (with one region the export line is the last).
	spotTourEnd = regexp.MustCompile(`/_api/spot/replicas/1/start\n`)
)

// devRegions returns how many regions `causeway dev args` runs.
func devRegions(args string) int {
	f := strings.Fields(args)
	for i, a := range f {
		switch {
		case a == "--regions" && i+1 < len(f):
			return strings.Count(f[i+1], ",") + 1
		case strings.HasPrefix(a, "--regions="):
			return strings.Count(a, ",") + 1
		}
	}
	return 3
}

// runInOwnNetns builds the binary and runs this test again in new user
// and network namespaces with the loopback interface up.
func runInOwnNetns(t *testing.T) {
	if out, err := exec.Command("unshare", "-rn", "sh", "-c", "ip link set lo up").CombinedOutput(); err != nil {
		t.Skipf("needs unshare -rn (user and network namespaces) and ip to use the READMEs' ports without meeting other nodes of this machine: %v %s", err, out)
	}
	bin := causewayBinary(t)
	timeout := 9 * time.Minute
	if d, ok := t.Deadline(); ok {
		timeout = time.Until(d) - 20*time.Second
	}
	cmd := exec.Command("unshare", "-rn", "sh", "-c", `ip link set lo up && exec "$@"`, "sh",
		os.Args[0], "-test.run=^TestREADMECommandsRun$", "-test.count=1", "-test.v", "-test.timeout="+timeout.String())
	cmd.Env = append(os.Environ(), readmeInNetnsEnv+"=1", readmeBinEnv+"="+bin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Log(out.String())
	if err != nil {
		t.Fatalf("in its own namespaces: %v", err)
	}
}

// readmeProcess is a causeway serve or dev started by the test, its
// standard output and error gathered.
type readmeProcess struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func (p *readmeProcess) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *readmeProcess) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func startReadmeProcess(t *testing.T, dir, name string, args ...string) *readmeProcess {
	t.Helper()
	p := &readmeProcess{done: make(chan struct{})}
	p.cmd = exec.Command(name, args...)
	p.cmd.Dir = dir
	p.cmd.Env = readmeEnv(dir)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	})
	return p
}

// waitFor waits until the output matches re and returns the match.
func (p *readmeProcess) waitFor(t *testing.T, re *regexp.Regexp, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := re.FindString(p.output()); m != "" {
			return m
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before printing %q:\n%s", p.cmd, re, p.output())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not print %q within %s:\n%s", p.cmd, re, timeout, p.output())
		}
	}
}

// waitDevReady waits until `causeway status` answers for every region of
// the causeway dev in dir. The banner comes once every node listens, but
// in a region of several nodes the node that runs the region's
// replication is chosen after that: until then status fails (503 "this
// node does not lead the region's replication journals now").
func waitDevReady(t *testing.T, dir, export string) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(time.Minute)
	for {
		cmd := exec.Command("bash", "-c", export+"./causeway status")
		cmd.Dir, cmd.Env = dir, readmeEnv(dir)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Logf("causeway status answered %s after the banner", time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("causeway status still fails a minute after the banner: %v\n%s", err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitListening waits until addr takes TCP connections.
func waitListening(t *testing.T, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s after %s: %v", addr, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop interrupts the process as Ctrl-C does and waits for it to exit.
func (p *readmeProcess) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		t.Errorf("%s did not stop within a minute of SIGINT", p.cmd)
	}
	t.Logf("%s output:\n%s", p.cmd, p.output())
}

// readmeEnv is the environment of the processes the test starts: its own,
// without CAUSEWAY_ variables (the token comes from the export the node
// prints) and with the working directory's causeway first on the PATH.
func readmeEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CAUSEWAY_") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	return append(env, "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// readmePrelude runs before every block: bash stops at the first command
// that fails, in a pipeline too, and curl fails on an HTTP error status.
const readmePrelude = `set -eo pipefail
curl() { command curl --fail-with-body --show-error --no-progress-meter "$@"; }
`

// runReadmeBlock runs commands with bash in dir after export, failing the
// test when bash exits non-zero or takes over two minutes. Commands left
// running in the background (a consumer) are killed when it ends.
func runReadmeBlock(t *testing.T, dir, name, export, commands string) {
	t.Helper()
	out, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", readmePrelude+export+"\n"+commands)
	cmd.Dir, cmd.Env = dir, readmeEnv(dir)
	// A file, not a pipe: Wait must not wait for a background command
	// holding the output open.
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	start := time.Now()
	err = cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	got, _ := os.ReadFile(out.Name())
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("still running after 2 minutes: %w", err)
		}
		t.Errorf("%s failed: %v\n--- commands\n%s--- output\n%s", name, err, commands, got)
		return
	}
	t.Logf("%s ran in %s:\n%s", name, time.Since(start).Round(time.Millisecond), indent(string(got)))
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// bannerCommands returns the commands a dev banner offers to try (the
// lines after "Try it, in another terminal:" up to "Stop with Ctrl-C.")
// and its SPOT tour (the indented lines after "SPOT collections"), without
// their two-space indent.
func bannerCommands(banner string) (tour, spotTour string) {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(banner, "\n") {
		switch {
		case strings.HasPrefix(line, "Try it, in another terminal:"):
			in = true
		case strings.HasPrefix(line, "Stop with Ctrl-C."):
			in = false
		case in:
			b.WriteString(strings.TrimPrefix(line, "  ") + "\n")
		}
	}
	tour = b.String()
	b.Reset()
	if i := strings.Index(banner, "\nSPOT collections"); i >= 0 {
		rest := banner[i+1:]
		for _, line := range strings.Split(rest, "\n")[1:] {
			if line != "" && !strings.HasPrefix(line, "  ") {
				break
			}
			b.WriteString(strings.TrimPrefix(line, "  ") + "\n")
		}
	}
	return tour, b.String()
}
