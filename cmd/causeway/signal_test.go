package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMDuringStartIsGraceful sends SIGTERM to `causeway serve` at
// each step of its start-up — as soon as it logs anything ("starting"),
// after the node opened, after collections opened, and right at "serving"
// — several times: it must exit 0 every time (a graceful shutdown), and
// what it held must still be there afterwards. The handler used to be
// installed after "serving" was logged, so a SIGTERM before that killed
// the process (the 1-in-100 flake of the crash test).
func TestSIGTERMDuringStartIsGraceful(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := causewayBinary(t)
	dir := t.TempDir()
	args := []string{"serve", "--data", dir, "--http", "127.0.0.1:0", "--region", "sig", "--auth=false"}

	n := startServe(t, bin, dir)
	const docs = 200
	base := "http://" + n.addr + "/_fabric/_system/_api/"
	postJSON(t, base+"collection", map[string]any{"name": "kept"}, http.StatusOK)
	batch := make([]any, docs)
	for i := range batch {
		batch[i] = map[string]any{"_key": fmt.Sprintf("k%d", i), "i": i}
	}
	postJSON(t, base+"document/kept", batch, http.StatusCreated)
	n.terminate(t)

	steps := []string{"starting", "node started", "collections started", "serving"}
	const rounds = 3
	for round := range rounds {
		for _, step := range steps {
			code, log := termAt(t, bin, args, step)
			if code != 0 {
				t.Fatalf("round %d, SIGTERM at %q: exit %d\n%s", round, step, code, log)
			}
		}
	}

	n = startServe(t, bin, dir)
	defer n.terminate(t)
	resp, err := http.Get("http://" + n.addr + "/_fabric/_system/_api/collection/kept/count")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c struct{ Count int }
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || c.Count != docs {
		t.Fatalf("after %d interrupted starts: count %d (%v), want %d", rounds*len(steps), c.Count, err, docs)
	}
}

// termAt starts the binary, sends SIGTERM the moment it logs msg, and
// returns its exit code (-1: killed by a signal) and its log.
func termAt(t *testing.T, bin string, args []string, msg string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	sent := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		signalled := false
		for sc.Scan() {
			log.Write(sc.Bytes())
			log.WriteByte('\n')
			var line struct {
				Msg string `json:"msg"`
			}
			if !signalled && json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == msg {
				_ = cmd.Process.Signal(syscall.SIGTERM)
				signalled = true
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		sent <- signalled
	}()
	done := make(chan error, 1)
	go func() {
		signalled := <-sent
		err := cmd.Wait()
		if !signalled && err == nil {
			err = fmt.Errorf("exited before logging %q", msg)
		}
		done <- err
	}()
	select {
	case err := <-done:
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0, log.String()
		case errors.As(err, &ee):
			return ee.ExitCode(), log.String()
		default:
			t.Fatalf("%s: %v", msg, err)
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("SIGTERM at %q: no exit in 60 s", msg)
	}
	return 0, ""
}

func postJSON(t *testing.T, url string, body any, status int) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, out)
	}
}
