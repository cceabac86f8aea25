package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// floodEnv carries a floodSpec to the flooder process.
const floodEnv = "CAUSEWAY_TEST_FLOOD"

// floodSpec is what the flooder process attacks.
type floodSpec struct {
	URL         string
	Flooders    int
	Flood       string // a valid key, flooded far past its request rate
	Prober      string // a key of another tenant, dialing the victim's stream
	StreamsPath string
	ForeignPath string
}

// floodCounts are the answers the floods got that show each limit worked.
type floodCounts struct {
	Limited, Unauth, Foreign int64
}

// flooders is the running flooder process.
type flooders struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    bytes.Buffer // everything it printed, once read is closed
	ready  chan struct{}
	readDn chan struct{}
}

// startFlooders runs TestFlooderProcess in a child process.
func startFlooders(t *testing.T, spec floodSpec) *flooders {
	t.Helper()
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	f := &flooders{t: t, cmd: exec.Command(os.Args[0], "-test.run=^TestFlooderProcess$", "-test.v"),
		ready: make(chan struct{}), readDn: make(chan struct{})}
	f.cmd.Env = append(os.Environ(), floodEnv+"="+string(b))
	f.cmd.Stderr = os.Stderr
	if f.stdin, err = f.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := f.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.cmd.Process.Kill() })
	go func() {
		defer close(f.readDn)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f.out.WriteString(sc.Text() + "\n")
			if strings.TrimSpace(sc.Text()) == "FLOOD-READY" {
				close(f.ready)
			}
		}
	}()
	// Every flood is under way (its connections established) before the
	// caller fills the per-IP connection bound.
	select {
	case <-f.ready:
	case <-f.readDn:
		t.Fatalf("flooder process ended before flooding:\n%s", f.out.String())
	case <-time.After(testTimeout):
		t.Fatalf("flooder process not flooding after %s:\n%s", testTimeout, f.out.String())
	}
	return f
}

// stop ends the floods and returns their counts.
func (f *flooders) stop() floodCounts {
	f.t.Helper()
	_ = f.stdin.Close()
	<-f.readDn
	if err := f.cmd.Wait(); err != nil {
		f.t.Fatalf("flooder process: %v\n%s", err, f.out.String())
	}
	for _, line := range strings.Split(f.out.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "FLOOD-COUNTS "); ok {
			var c floodCounts
			if err := json.Unmarshal([]byte(rest), &c); err != nil {
				f.t.Fatal(err)
			}
			return c
		}
	}
	f.t.Fatalf("flooder process printed no counts:\n%s", f.out.String())
	return floodCounts{}
}

// TestFlooderProcess is the attackers' side of TestHostileClients, run in
// a child process; on its own it skips.
func TestFlooderProcess(t *testing.T) {
	raw := os.Getenv(floodEnv)
	if raw == "" {
		t.Skip("the attackers' process of TestHostileClients")
	}
	var spec floodSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var counts struct{ limited, unauth, foreign atomic.Int64 }
	var errs atomic.Int64
	flood := func(cred string, count *atomic.Int64, want int) {
		defer wg.Done()
		cl := &http.Client{Timeout: testTimeout, Transport: http.DefaultTransport.(*http.Transport).Clone()}
		for {
			select {
			case <-stop:
				return
			default:
			}
			req, _ := http.NewRequest("GET", spec.URL+spec.StreamsPath, nil)
			req.Header.Set("Authorization", "Bearer "+cred)
			resp, err := cl.Do(req)
			if err != nil {
				if errs.Add(1) == 1 {
					t.Logf("flood: %v", err)
				}
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == want {
				count.Add(1)
			}
		}
	}
	for i := range spec.Flooders {
		wg.Add(1)
		if i%3 == 2 {
			go flood("cwk_not-a-key", &counts.unauth, http.StatusUnauthorized)
		} else {
			go flood(spec.Flood, &counts.limited, http.StatusTooManyRequests)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		d := websocket.Dialer{HandshakeTimeout: testTimeout}
		target := "ws://" + strings.TrimPrefix(spec.URL, "http://") + spec.ForeignPath + "?token=" + url.QueryEscape(spec.Prober)
		for {
			select {
			case <-stop:
				return
			default:
			}
			c, resp, err := d.Dial(target, nil)
			if err == nil {
				_ = c.Close()
				continue
			}
			if resp != nil {
				if resp.StatusCode == http.StatusNotFound {
					counts.foreign.Add(1)
				}
				resp.Body.Close()
			}
		}
	}()
	for counts.limited.Load() == 0 || counts.unauth.Load() == 0 || counts.foreign.Load() == 0 {
		time.Sleep(10 * time.Millisecond) // polling counters the floods raise
	}
	os.Stdout.WriteString("\nFLOOD-READY\n")
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it
	close(stop)
	wg.Wait()
	b, _ := json.Marshal(floodCounts{Limited: counts.limited.Load(), Unauth: counts.unauth.Load(), Foreign: counts.foreign.Load()})
	os.Stdout.WriteString("\nFLOOD-COUNTS " + string(b) + "\n")
}
