// Command profnode runs one Causeway node in-process with Go's profiler
// on a second listener, so that a bench run can be profiled on the server
// side:
//
//	go run ./bench/peers/profnode --data DIR --http 127.0.0.1:18080 --fsync always --pprof 127.0.0.1:16060 &
//	curl -o cpu.pprof 'http://127.0.0.1:16060/debug/pprof/profile?seconds=20'
//	go tool pprof -top cpu.pprof
//
// With --region, --repl and --peer name=host:port it is one region of a
// geo-replicated fabric (each region its own process).
//
// It is a profiling aid for bench/peers, not a way to run Causeway.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	_ "net/http/pprof" // the profiler's handlers, served on --pprof only
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/internal/gctune"
	"github.com/causeway/causeway/server"
)

func main() {
	data := flag.String("data", "profnode-data", "data directory")
	addr := flag.String("http", "127.0.0.1:18080", "HTTP and WebSocket address")
	kafka := flag.String("kafka", "", "Kafka listener address (default off)")
	fsync := flag.String("fsync", "always", "always, interval or never")
	pprofAddr := flag.String("pprof", "127.0.0.1:16060", "profiler address")
	region := flag.String("region", "local", "region name")
	repl := flag.String("repl", "", "replication address (with --peer)")
	secret := flag.String("fabric-secret", "profnode-fabric-secret", "fabric secret (with --peer)")
	wanLatency := flag.Duration("wan-latency", 0, "emulated one-way latency on every outgoing peer link (with --peer)")
	wanJitter := flag.Duration("wan-jitter", 0, "emulated jitter on every outgoing peer link (with --peer)")
	peers := map[string]string{}
	flag.Func("peer", "another region as name=host:port (repeat); makes a geo-replicated node", func(v string) error {
		name, addr, ok := strings.Cut(v, "=")
		if !ok || name == "" || addr == "" {
			return fmt.Errorf("want name=host:port, got %q", v)
		}
		peers[name] = addr
		return nil
	})
	flag.Parse()
	gctune.Node() // as `causeway serve` does
	cfg := broker.Config{Region: *region, DataDir: *data, HTTPAddr: *addr, KafkaAddr: *kafka, Fsync: *fsync}
	if len(peers) > 0 {
		cfg.Peers, cfg.ReplAddr, cfg.FabricSecret = peers, *repl, *secret
		cfg.WAN = broker.WANConfig{Latency: *wanLatency, Jitter: *wanJitter}
	}
	srv, err := server.Start(cfg, zap.NewNop())
	if err != nil {
		fmt.Fprintln(os.Stderr, "profnode:", err)
		os.Exit(1)
	}
	ps := &http.Server{Addr: *pprofAddr, Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = ps.ListenAndServe() }()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	<-sigs
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = ps.Shutdown(ctx)
	_ = srv.Shutdown(ctx)
}
