package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/wsproto"
	"github.com/causeway/causeway/clients"
)

// defaultMaxLineBytes bounds one stdin line of "causeway produce".
const defaultMaxLineBytes = 5 << 20

// clientFlags are the connection flags of the client sub-commands.
type clientFlags struct {
	url, tenant, fabric, token string
	connectTimeout             time.Duration
	verbose                    bool
}

func (f *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "url", "http://127.0.0.1:8080", "server base URL, or a region's nodes' base URLs separated by commas (a lost connection moves to the next)")
	fs.StringVar(&f.tenant, "tenant", naming.DefaultTenant, "tenant of bare stream names")
	fs.StringVar(&f.fabric, "fabric", naming.SystemFabric, "fabric of bare stream names")
	fs.StringVar(&f.token, "token", os.Getenv(tokenEnv), "bearer token: an API key or a JWT (default $"+tokenEnv+")")
	fs.DurationVar(&f.connectTimeout, "connect-timeout", 30*time.Second, "how long the first connection may take")
	fs.BoolVar(&f.verbose, "verbose", false, "log connection events at info level (warnings are always logged)")
}

// client builds the client; its logs go to stderr.
func (f *clientFlags) client(stderr io.Writer) (*clients.Client, error) {
	lvl := zapcore.WarnLevel
	if f.verbose {
		lvl = zapcore.InfoLevel
	}
	enc := zap.NewDevelopmentEncoderConfig()
	log := zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(stderr), lvl))
	return clients.New(f.url, clients.WithToken(f.token), clients.WithTenant(f.tenant), clients.WithFabric(f.fabric), clients.WithLogger(log))
}

// producePropertiesFlag collects repeated --property k=v flags.
type producePropertiesFlag map[string]string

func (p producePropertiesFlag) String() string {
	parts := make([]string, 0, len(p))
	for k, v := range p {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (p producePropertiesFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	p[k] = v
	return nil
}

// produceTally counts outcomes reported by the producer's callbacks.
type produceTally struct {
	mu       sync.Mutex
	ok, fail int
	firstErr error
}

func (t *produceTally) done(_ wsproto.MessageID, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil {
		t.ok++
		return
	}
	t.fail++
	if t.firstErr == nil {
		t.firstErr = err
	}
}

// runProduce implements "causeway produce": each stdin line is published as
// one message (batched, pipelined), and the command waits for every ack
// before it exits. Exit code 0: all published; 1: some failed; 2: usage.
func runProduce(args []string, stdin io.Reader, _, stderr io.Writer) int {
	fs := flag.NewFlagSet("produce", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf clientFlags
	cf.register(fs)
	props := producePropertiesFlag{}
	stream := fs.String("stream", "", "stream: NAME, tenant/fabric/NAME or persistent://tenant/fabric/NAME (required)")
	key := fs.String("key", "", "key of every message")
	name := fs.String("name", "", "producer name (default: generated)")
	maxLine := fs.Int("max-line-bytes", defaultMaxLineBytes, "longest accepted line")
	ackTimeout := fs.Duration("ack-timeout", 60*time.Second, "how long to wait for outstanding acks once stdin ends")
	fs.Var(props, "property", "message property key=value (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: causeway produce --stream NAME [flags] < lines\n\nPublishes each line of stdin as one message.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "causeway produce: unexpected argument %q\n", fs.Arg(0))
		return 2
	case *stream == "":
		fmt.Fprintln(stderr, "causeway produce: --stream is required")
		return 2
	case *maxLine < 1:
		fmt.Fprintln(stderr, "causeway produce: --max-line-bytes must be positive")
		return 2
	}
	c, err := cf.client(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "causeway produce:", err)
		return 2
	}
	defer c.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cctx, cancel := context.WithTimeout(ctx, cf.connectTimeout)
	p, err := c.CreateProducer(cctx, clients.ProducerOptions{Stream: *stream, Name: *name})
	cancel()
	if err != nil {
		printFailure(stderr, "produce", err)
		return 1
	}
	defer p.Close()

	// Lines are read on their own goroutine so an interrupt is not stuck
	// behind a blocking read of stdin.
	lines := make(chan []byte)
	scanErr := make(chan error, 1)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 0, min(64<<10, *maxLine+1)), *maxLine+1) // +1: the newline
		for sc.Scan() {
			select {
			case lines <- bytes.Clone(bytes.TrimSuffix(sc.Bytes(), []byte{'\r'})):
			case <-ctx.Done():
				return
			}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				err = fmt.Errorf("a line is longer than --max-line-bytes=%d", *maxLine)
			}
			scanErr <- err
		}
	}()

	var tally produceTally
	sent, interrupted := 0, false
read:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				break read
			}
			p.SendAsync(clients.ProducerMessage{Payload: line, Key: *key, Properties: props}, tally.done)
			sent++
		case <-ctx.Done():
			interrupted = true
			break read
		}
	}
	fctx, cancel := context.WithTimeout(context.Background(), *ackTimeout)
	flushErr := p.Flush(fctx)
	cancel()

	code := 0
	select {
	case err := <-scanErr:
		fmt.Fprintln(stderr, "causeway produce: reading stdin:", err)
		code = 1
	default:
	}
	tally.mu.Lock()
	ok, failed, firstErr := tally.ok, tally.fail, tally.firstErr
	tally.mu.Unlock()
	if firstErr != nil {
		fmt.Fprintln(stderr, "causeway produce: first failure:", firstErr)
	}
	if flushErr != nil {
		fmt.Fprintln(stderr, "causeway produce: waiting for acks:", flushErr)
	}
	unacked := sent - ok - failed
	fmt.Fprintf(stderr, "causeway produce: %d sent, %d acknowledged, %d failed, %d unacknowledged\n", sent, ok, failed, unacked)
	if failed > 0 || unacked > 0 || flushErr != nil || interrupted {
		code = 1
	}
	return code
}
