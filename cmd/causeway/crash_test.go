package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/causeway/causeway/broker/wsproto"
)

// buildOnce compiles cmd/causeway once per test binary run; TestMain removes
// the build's directory when the tests end.
var buildOnce struct {
	sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildOnce.dir != "" {
		os.RemoveAll(buildOnce.dir)
	}
	os.Exit(code)
}

func causewayBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "causeway-bin")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.dir = dir
		buildOnce.path = filepath.Join(dir, "causeway")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

// node is a causeway serve subprocess.
type node struct {
	cmd  *exec.Cmd
	addr string
}

// startServe runs `causeway serve` on an ephemeral port and waits until it
// logs the address it serves on.
func startServe(t *testing.T, bin, dataDir string) *node {
	t.Helper()
	cmd, addr := serveProcess(t, bin, []string{"serve", "--data", dataDir, "--http", "127.0.0.1:0", "--region", "crash", "--auth=false"}, 60*time.Second)
	return &node{cmd: cmd, addr: addr}
}

// serveProcess starts the binary with args and waits (up to timeout) for its
// "serving" log line, returning the process and the HTTP address.
func serveProcess(t *testing.T, bin string, args []string, timeout time.Duration) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		sent := false
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				HTTP string `json:"http"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" && !sent {
				addrCh <- line.HTTP
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		if !sent {
			close(addrCh)
		}
	}()
	select {
	case addr, ok := <-addrCh:
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("%v: causeway serve exited before serving", args)
		}
		return cmd, addr
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		t.Fatalf("%v: causeway serve did not start in time", args)
	}
	return nil, ""
}

func (n *node) kill() {
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	_ = n.cmd.Wait()
}

func (n *node) terminate(t *testing.T) {
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	if err := n.cmd.Wait(); err != nil {
		t.Errorf("causeway serve exit after SIGTERM: %v", err)
	}
}

// acked records, per producer, the sequence numbers whose publish was
// acknowledged.
type acked struct {
	mu      sync.Mutex
	seq     map[string][]int
	n       int
	changed chan struct{} // closed and replaced on every recorded ack
}

func (a *acked) record(producer string, n int) {
	a.mu.Lock()
	a.seq[producer] = append(a.seq[producer], n)
	a.n++
	close(a.changed)
	a.changed = make(chan struct{})
	a.mu.Unlock()
}

// waitFor blocks until at least target acks are recorded or ctx ends.
func (a *acked) waitFor(ctx context.Context, target int) {
	for {
		a.mu.Lock()
		n, ch := a.n, a.changed
		a.mu.Unlock()
		if n >= target {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

// produce publishes numbered messages pipelined (window 64) until the
// connection dies, recording each acknowledged one.
func produce(addr, producer string, start int, rec *acked) {
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws/v2/producer/persistent/_mm/_system/crash?producerName="+producer, nil)
	if err != nil {
		return
	}
	defer c.Close()
	window := make(chan struct{}, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			var ack wsproto.ProducerAck
			if err := c.ReadJSON(&ack); err != nil {
				return
			}
			<-window
			if !ack.OK() {
				continue
			}
			n, _ := strconv.Atoi(ack.Context)
			rec.record(producer, n)
		}
	}()
	for i := start; ; i++ {
		select {
		case window <- struct{}{}:
		case <-done:
			return
		}
		payload := base64.StdEncoding.EncodeToString([]byte(producer + ":" + strconv.Itoa(i) + ":" + strings.Repeat("x", 200)))
		seq := int64(i)
		if err := c.WriteJSON(wsproto.ProducerMessage{Payload: payload, Context: strconv.Itoa(i), SequenceID: &seq}); err != nil {
			<-done
			return
		}
	}
}

// readAll reads the stream from the beginning and returns, per producer,
// the sequence numbers in stored order.
func readAll(t *testing.T, addr string) map[string][]int {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws/v2/reader/persistent/_mm/_system/crash?messageId=earliest&receiverQueueSize=5000", nil)
	if err != nil {
		t.Fatalf("reader: %v", err)
	}
	defer c.Close()
	end := endOffset(t, addr)
	out := map[string][]int{}
	for read := uint64(0); read < end; read++ {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		var m wsproto.ConsumerMessage
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("reader stopped after %d of %d messages: %v", read, end, err)
		}
		_ = c.WriteJSON(wsproto.ConsumerCommand{MessageID: m.MessageID})
		p, _ := base64.StdEncoding.DecodeString(m.Payload)
		parts := strings.SplitN(string(p), ":", 3)
		n, _ := strconv.Atoi(parts[1])
		out[parts[0]] = append(out[parts[0]], n)
	}
	return out
}

func endOffset(t *testing.T, addr string) uint64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/_fabric/_system/_api/streams/crash")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Result struct {
			StartOffset uint64 `json:"startOffset"`
			EndOffset   uint64 `json:"endOffset"`
		} `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	if v.Result.StartOffset != 0 {
		t.Fatalf("stream starts at %d; retention must not run in this test", v.Result.StartOffset)
	}
	return v.Result.EndOffset
}

// TestCrashUnderLoadKeepsEveryAcknowledgedMessage runs the real binary,
// publishes from several producers, kills it with SIGKILL at a random
// moment, restarts it, and checks that every acknowledged message is
// stored exactly once and in per-producer order. It repeats the cycle, once
// with SIGTERM (graceful shutdown under load) instead of SIGKILL.
func TestCrashUnderLoadKeepsEveryAcknowledgedMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs the real binary")
	}
	bin := causewayBinary(t)
	dataDir := t.TempDir()
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	rec := &acked{seq: map[string][]int{}, changed: make(chan struct{})}
	producers := []string{"p0", "p1", "p2", "p3"}
	next := map[string]int{}
	const cycles = 3
	for cycle := 0; cycle < cycles; cycle++ {
		n := startServe(t, bin, dataDir)
		var wg sync.WaitGroup
		for _, p := range producers {
			wg.Add(1)
			go func(p string, start int) {
				defer wg.Done()
				produce(n.addr, p, start, rec)
			}(p, next[p])
		}
		// Kill once enough has been acknowledged in this cycle, plus a
		// random extra moment, so the kill lands mid-write.
		target := 2000 * (cycle + 1)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		rec.waitFor(ctx, target)
		cancel()
		time.Sleep(time.Duration(rng.IntN(50)) * time.Millisecond)
		if cycle == 1 {
			n.terminate(t) // graceful shutdown under load must lose nothing either
		} else {
			n.kill()
		}
		wg.Wait()
		rec.mu.Lock()
		for _, p := range producers {
			// Restart each producer well past anything it may have sent.
			next[p] = maxOf(rec.seq[p]) + 100000
		}
		rec.mu.Unlock()
	}
	n := startServe(t, bin, dataDir)
	defer n.terminate(t)
	stored := readAll(t, n.addr)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, p := range producers {
		got := stored[p]
		seen := make(map[int]bool, len(got))
		for i, v := range got {
			if seen[v] {
				t.Fatalf("producer %s: message %d stored twice", p, v)
			}
			seen[v] = true
			if i > 0 && v <= got[i-1] {
				t.Fatalf("producer %s: order broken: %d after %d", p, v, got[i-1])
			}
		}
		for _, v := range rec.seq[p] {
			if !seen[v] {
				t.Fatalf("producer %s: acknowledged message %d lost after SIGKILL", p, v)
			}
		}
		t.Logf("producer %s: %d acknowledged, %d stored", p, len(rec.seq[p]), len(got))
	}
}

func maxOf(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
