package main

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/wsproto"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// waitGone waits for the fake's consumer connection to end, so every frame
// the command sent has been read.
func (f *cliFake) waitGone(t *testing.T) {
	t.Helper()
	select {
	case <-f.gone:
	case <-time.After(10 * time.Second):
		t.Fatal("the consumer connection did not end")
	}
}

func TestRunConsumePrintsAndAcksCount(t *testing.T) {
	f := newCLIFake(t)
	f.push = []string{"a", "b", "c", "d", "e"}
	var stdout, stderr strings.Builder
	code := runConsume([]string{"--url", f.srv.URL, "--stream", "t/f/s", "--subscription", "sub", "--type", "shared",
		"--initial", "earliest", "--count", "3"}, nil, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	if stdout.String() != "a\nb\nc\n" {
		t.Fatalf("stdout %q", stdout.String())
	}
	f.waitGone(t)
	f.mu.Lock()
	defer f.mu.Unlock()
	var want []string
	for i := range 3 {
		want = append(want, `{"messageId":"`+wsproto.MessageID{Offset: uint64(i), Partition: -1}.Encode()+`"}`)
	}
	if strings.Join(f.commands, " ") != strings.Join(want, " ") {
		t.Fatalf("commands %q, want %q", f.commands, want)
	}
	u := f.urls[0]
	for _, part := range []string{"/ws/v2/consumer/persistent/t/f/s/sub?", "subscriptionType=Shared", "subscriptionInitialPosition=Earliest", "receiverQueueSize=3"} {
		if !strings.Contains(u, part) {
			t.Fatalf("connected to %s, missing %s", u, part)
		}
	}
}

func TestRunConsumeJSON(t *testing.T) {
	f := newCLIFake(t)
	f.push = []string{"héllo", "\xff\xfe"}
	var stdout, stderr strings.Builder
	code := runConsume([]string{"--url", f.srv.URL, "--stream", "s", "--subscription", "sub", "--count", "2", "--format", "json"}, nil, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	lines := jsonLines(t, stdout.String())
	if len(lines) != 2 {
		t.Fatalf("stdout %q", stdout.String())
	}
	first := lines[0]
	if first["payload"] != "héllo" || first["key"] != "k" || first["id"] != (wsproto.MessageID{Offset: 0, Partition: -1}).Encode() ||
		first["publishTime"] != "2023-11-14T22:13:20.000Z" || first["stream"] != "persistent://_mm/_system/s" ||
		first["properties"].(map[string]any)["i"] != "héllo" {
		t.Fatalf("first line %v", first)
	}
	if lines[1]["payloadBase64"] != b64("\xff\xfe") || lines[1]["payload"] != nil {
		t.Fatalf("binary payload line %v", lines[1])
	}
}

func TestRunConsumeIdleTimeout(t *testing.T) {
	f := newCLIFake(t)
	f.push = []string{"only"}
	var stdout, stderr strings.Builder
	code := runConsume([]string{"--url", f.srv.URL, "--stream", "s", "--subscription", "sub", "--timeout", "100ms"}, nil, &stdout, &stderr)
	if code != 0 || stdout.String() != "only\n" || !strings.Contains(stderr.String(), "1 messages") {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, stdout.String(), stderr.String())
	}
}

func TestRunConsumeMultiStream(t *testing.T) {
	f := newCLIFake(t)
	f.push = []string{"x"}
	var stdout, stderr strings.Builder
	code := runConsume([]string{"--url", f.srv.URL, "--stream", "a", "--stream", "t/f/b", "--subscription", "sub", "--count", "1"}, nil, &stdout, &stderr)
	if code != 0 || stdout.String() != "x\n" || !strings.HasPrefix(f.urls[0], "/ws/v3/consumer/sub?") {
		t.Fatalf("exit %d, stdout %q, urls %v, stderr:\n%s", code, stdout.String(), f.urls, stderr.String())
	}
}

func TestRunConsumeUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--subscription", "sub"},
		{"--stream", "s"},
		{"--stream", "s", "--subscription", "sub", "--type", "sticky"},
		{"--stream", "s", "--subscription", "sub", "--initial", "middle"},
		{"--stream", "s", "--subscription", "sub", "--format", "xml"},
		{"--stream", "s", "--subscription", "sub", "--count", "-1"},
		{"--stream", "s", "--subscription", "sub", "--bogus"},
	} {
		var stderr strings.Builder
		if code := runConsume(args, nil, &strings.Builder{}, &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2; stderr %s", args, code, stderr.String())
		}
	}
}

func TestRunConsumeRefused(t *testing.T) {
	f := newCLIFake(t)
	var stderr strings.Builder
	code := runConsume([]string{"--url", f.srv.URL, "--stream", "s", "--subscription", "bad/name/x"}, nil, &strings.Builder{}, &stderr)
	if code != 2 && code != 1 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stderr.String(), "subscription") {
		t.Fatalf("stderr %s", stderr.String())
	}
}
