package kafka_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// kcatPath finds kcat (librdkafka). .ci/run installs it; under CI a missing
// kcat fails the test, elsewhere it skips.
func kcatPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("kcat")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("kcat not found under CI: %v", err)
		}
		t.Skip("kcat not installed (apt-get install kcat)")
	}
	return p
}

func runKcat(t *testing.T, ctx context.Context, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, kcatPath(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

// librdkafka through kcat: produce keyed messages with headers under every
// compression codec, consume them back by partition and through a group.
func TestKcat(t *testing.T) {
	kcatPath(t)
	srv := startNode(t, nil)
	ctx := testCtx(t)
	for _, codec := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		t.Run(codec, func(t *testing.T) {
			topic := "kcat-" + codec
			const n = 2000
			var in strings.Builder
			var sent []msg
			for i := range n {
				m := msg{key: fmt.Sprintf("k%d", i%13), value: fmt.Sprintf("%s-v%d", codec, i), headers: map[string]string{"codec": codec}}
				sent = append(sent, m)
				fmt.Fprintf(&in, "%s:%s\n", m.key, m.value)
			}
			runKcat(t, ctx, in.String(), "-P", "-b", srv.KafkaAddr(), "-t", topic, "-K", ":", "-H", "codec="+codec,
				"-X", "compression.codec="+codec, "-X", "linger.ms=5")

			format := "%k\t%s\t%h\t%o\n"
			out := runKcat(t, ctx, "", "-C", "-b", srv.KafkaAddr(), "-t", topic, "-o", "beginning", "-e", "-q", "-f", format)
			got := parseKcat(t, out)
			checkSame(t, sent, got)

			grouped := runKcat(t, ctx, "", "-b", srv.KafkaAddr(), "-G", "kcat-group-"+codec, "-o", "beginning", "-c", fmt.Sprint(n), "-q", "-f", format, topic)
			checkSame(t, sent, parseKcat(t, grouped))
		})
	}
}

func parseKcat(t *testing.T, out string) []msg {
	t.Helper()
	var got []msg
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			t.Fatalf("kcat line %q", line)
		}
		m := msg{key: f[0], value: f[1], headers: map[string]string{}}
		for _, h := range strings.Split(f[2], ",") {
			if k, v, ok := strings.Cut(h, "="); ok {
				m.headers[k] = v
			}
		}
		got = append(got, m)
	}
	return got
}
