package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"go.uber.org/zap"

	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/console"
	"github.com/causeway/causeway/server"
)

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var nf nodeFlags
	nf.register(fs)
	var sf spotFlags
	sf.register(fs)
	var bootstrapFrom listFlag
	fs.Var(&bootstrapFrom, "bootstrap-from", "base URL of another region's node (http://host:port) to load the collections snapshot from when this node's data dir is new or wiped; repeat for fallbacks")
	bootstrapToken := fs.String("bootstrap-token", "", "superuser API key or token for --bootstrap-from when auth is on (or $"+bootstrapTokenEnv+")")
	if code, goOn := parseArgs(fs, args, stdout, stderr); !goOn {
		return code
	}
	// Signals are caught before anything is opened or listened on: a
	// SIGTERM during start-up waits for the start to finish and then shuts
	// down gracefully (it killed the node when it came before the handler
	// was installed, after "serving" was logged).
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	cfg, reg, err := nf.loadAll()
	if err != nil {
		fmt.Fprintln(stderr, "causeway serve:", err)
		return 2
	}
	log, err := newLoggerAs(nf.logLevel, nf.logFormat)
	if err != nil {
		fmt.Fprintln(stderr, "causeway serve:", err)
		return 2
	}
	defer func() { _ = log.Sync() }()
	log.Info("starting", zap.String("region", cfg.Region), zap.String("data", cfg.DataDir))
	spotCfg, err := sf.config()
	if err != nil {
		fmt.Fprintln(stderr, "causeway serve:", err)
		return 2
	}
	cols := service.Options{BootstrapFrom: bootstrapFrom, BootstrapToken: *bootstrapToken}
	if cols.BootstrapToken == "" {
		cols.BootstrapToken = os.Getenv(bootstrapTokenEnv)
	}
	if reg != nil {
		log.Info("one of several nodes of the region", zap.Uint64("node", uint64(reg.Meta.Node)), zap.String("raft", reg.Meta.Addrs.Raft),
			zap.Int("voters", len(reg.Meta.Bootstrap)), zap.Strings("peers", reg.Meta.Peers))
	}
	srv, err := server.StartWith(cfg, log, server.Options{Spot: spotCfg, Collections: cols, Region: reg, Console: nf.console.enabled()})
	if err != nil {
		// One line a person reads (no stack trace): the port in use, the
		// bad address, the data directory another node holds.
		fmt.Fprintln(stderr, "causeway serve: cannot start:", err)
		return 1
	}
	if nf.console.enabled() {
		log.Info("web console", zap.String("url", srv.URL()+console.Prefix+"/"))
	}
	if k := srv.Auth.BootstrapKey(); k != "" {
		printAdminKey(stderr, k)
	}
	code := 0
	select {
	case sig := <-sigs:
		log.Info("shutting down", zap.String("signal", sig.String()))
	case err := <-srv.Done():
		log.Error("http server stopped", zap.Error(err))
		code = 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Error("shutdown", zap.Error(err))
		code = 1
	}
	return code
}

// bootstrapTokenEnv names the environment variable that may carry the
// --bootstrap-token.
const bootstrapTokenEnv = "CAUSEWAY_BOOTSTRAP_TOKEN"

// listFlag collects a repeated string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	if s == "" {
		return fmt.Errorf("empty value")
	}
	*l = append(*l, s)
	return nil
}
