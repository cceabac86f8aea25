package main

import (
	"bytes"
	"strings"
	"testing"
)

// bench kafka refuses a client library it does not have before connecting
// to anything (exit 2, the reason on stderr), and names both in its usage.
func TestBenchKafkaClientFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"bench", "kafka", "--client", "sarama", "--brokers", "127.0.0.1:1", "--out", "none"}, strings.NewReader(""), &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), `--client "sarama": want franz-go or kafka-go`) {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"bench", "kafka", "--help"}, strings.NewReader(""), &stdout, &stderr); code != 0 || !strings.Contains(stdout.String()+stderr.String(), "franz-go") {
		t.Fatalf("help: exit %d, no franz-go in %q", code, stdout.String()+stderr.String())
	}
}
