// Command profnode runs one Causeway node in-process with Go's profiler
// on a second listener, so that a bench run can be profiled on the server
// side:
//
//	go run ./bench/peers/profnode --data DIR --http 127.0.0.1:18080 --fsync always --pprof 127.0.0.1:16060 &
//	curl -o cpu.pprof 'http://127.0.0.1:16060/debug/pprof/profile?seconds=20'
//	go tool pprof -top cpu.pprof
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
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/server"
)

func main() {
	data := flag.String("data", "profnode-data", "data directory")
	addr := flag.String("http", "127.0.0.1:18080", "HTTP and WebSocket address")
	kafka := flag.String("kafka", "", "Kafka listener address (default off)")
	fsync := flag.String("fsync", "always", "always, interval or never")
	pprofAddr := flag.String("pprof", "127.0.0.1:16060", "profiler address")
	flag.Parse()
	srv, err := server.Start(broker.Config{Region: "local", DataDir: *data, HTTPAddr: *addr, KafkaAddr: *kafka, Fsync: *fsync}, zap.NewNop())
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
