package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/causeway/causeway/clients"
)

// consumeStreamsFlag collects repeated --stream flags.
type consumeStreamsFlag []string

func (s *consumeStreamsFlag) String() string { return strings.Join(*s, ",") }

func (s *consumeStreamsFlag) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// consumeJSON is one message in --format json.
type consumeJSON struct {
	ID              string            `json:"id"`
	Stream          string            `json:"stream"`
	Key             string            `json:"key,omitempty"`
	Properties      map[string]string `json:"properties,omitempty"`
	PublishTime     string            `json:"publishTime"`
	EventTime       string            `json:"eventTime,omitempty"`
	RedeliveryCount int               `json:"redeliveryCount,omitempty"`
	Payload         *string           `json:"payload,omitempty"`       // when the payload is UTF-8
	PayloadBase64   string            `json:"payloadBase64,omitempty"` // otherwise
}

const consumeTimeFormat = "2006-01-02T15:04:05.000Z07:00"

func consumeWrite(w io.Writer, m *clients.Message, asJSON bool) error {
	if !asJSON {
		if _, err := w.Write(m.Payload); err != nil {
			return err
		}
		_, err := io.WriteString(w, "\n")
		return err
	}
	j := consumeJSON{ID: m.RawID, Stream: m.Stream, Key: m.Key, Properties: m.Properties,
		PublishTime: m.PublishTime.UTC().Format(consumeTimeFormat), RedeliveryCount: m.RedeliveryCount}
	if !m.EventTime.IsZero() {
		j.EventTime = m.EventTime.UTC().Format(consumeTimeFormat)
	}
	if utf8.Valid(m.Payload) {
		s := string(m.Payload)
		j.Payload = &s
	} else {
		j.PayloadBase64 = base64.StdEncoding.EncodeToString(m.Payload)
	}
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// runConsume implements "causeway consume": it prints each message (payload
// lines, or one JSON object per line) and acks it once printed; it stops
// after --count messages, after --timeout without a message, or on
// interrupt. Exit code 0: stopped as asked; 1: an error; 2: usage.
func runConsume(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("consume", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf clientFlags
	cf.register(fs)
	var streams consumeStreamsFlag
	fs.Var(&streams, "stream", "stream to consume (required; repeat for a multi-stream consumer)")
	sub := fs.String("subscription", "", "subscription name (required)")
	typ := fs.String("type", "exclusive", "subscription type: exclusive, shared, failover or key_shared")
	initial := fs.String("initial", "latest", "where a new subscription starts: earliest or latest")
	name := fs.String("name", "", "consumer name")
	count := fs.Int("count", 0, "exit after this many messages (0: no limit)")
	idle := fs.Duration("timeout", 0, "exit after this long without a message (0: wait forever)")
	format := fs.String("format", "text", "output: text (payload lines) or json (one object per line)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: causeway consume --stream NAME --subscription S [flags]\n\nPrints and acknowledges messages.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	subType, typeErr := clients.ParseSubscriptionType(*typ)
	pos, posErr := clients.ParseInitialPosition(*initial)
	var usageErr string
	switch {
	case fs.NArg() > 0:
		usageErr = fmt.Sprintf("unexpected argument %q", fs.Arg(0))
	case len(streams) == 0:
		usageErr = "--stream is required"
	case *sub == "":
		usageErr = "--subscription is required"
	case typeErr != nil:
		usageErr = "--type: " + typeErr.Error()
	case posErr != nil:
		usageErr = "--initial: " + posErr.Error()
	case *count < 0:
		usageErr = "--count must not be negative"
	case *idle < 0:
		usageErr = "--timeout must not be negative"
	case *format != "text" && *format != "json":
		usageErr = fmt.Sprintf("--format %q: want text or json", *format)
	}
	if usageErr != "" {
		fmt.Fprintln(stderr, "causeway consume:", usageErr)
		return 2
	}
	c, err := cf.client(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "causeway consume:", err)
		return 2
	}
	defer c.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	queue := 1000
	if *count > 0 {
		queue = min(queue, *count) // fetch no more than will be printed
	}
	cctx, cancel := context.WithTimeout(ctx, cf.connectTimeout)
	cons, err := c.Subscribe(cctx, clients.ConsumerOptions{Streams: streams, Subscription: *sub, Type: subType,
		InitialPosition: pos, ConsumerName: *name, ReceiverQueueSize: queue})
	cancel()
	if err != nil {
		printFailure(stderr, "consume", err)
		return 1
	}
	defer cons.Close()

	out := bufio.NewWriter(stdout)
	n, code := 0, 0
	for *count == 0 || n < *count {
		rctx, cancel := ctx, context.CancelFunc(func() {})
		if *idle > 0 {
			rctx, cancel = context.WithTimeout(ctx, *idle)
		}
		m, err := cons.Receive(rctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
				fmt.Fprintln(stderr, "causeway consume:", err)
				code = 1
			}
			break // interrupted, idle, or failed
		}
		if err := consumeWrite(out, m, *format == "json"); err == nil {
			err = out.Flush()
		}
		if err != nil {
			fmt.Fprintln(stderr, "causeway consume: writing output:", err)
			code = 1
			break // not acked: the server delivers it again
		}
		if err := cons.Ack(m); err != nil {
			fmt.Fprintln(stderr, "causeway consume: ack (the message will be delivered again):", err)
		}
		n++
	}
	fmt.Fprintf(stderr, "causeway consume: %d messages\n", n)
	return code
}
