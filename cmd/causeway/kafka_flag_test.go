package main

import (
	"flag"
	"io"
	"testing"
)

func TestKafkaFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"--kafka", "127.0.0.1:9092"}, "127.0.0.1:9092"},
	} {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var nf nodeFlags
		nf.register(fs)
		if err := fs.Parse(append([]string{"--data", t.TempDir()}, c.args...)); err != nil {
			t.Fatal(err)
		}
		cfg, err := nf.load()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.KafkaAddr != c.want {
			t.Fatalf("%v: KafkaAddr %q, want %q", c.args, cfg.KafkaAddr, c.want)
		}
	}
}
