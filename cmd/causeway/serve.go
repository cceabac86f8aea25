package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/server"
)

func runServe(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var nf nodeFlags
	nf.register(fs)
	var sf spotFlags
	sf.register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := nf.load()
	if err != nil {
		fmt.Fprintln(stderr, "causeway serve:", err)
		return 2
	}
	log, err := newLogger(nf.logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "causeway serve:", err)
		return 2
	}
	defer func() { _ = log.Sync() }()
	spotCfg, err := sf.config()
	if err != nil {
		fmt.Fprintln(stderr, "causeway serve:", err)
		return 2
	}
	srv, err := server.StartWith(cfg, log, server.Options{Spot: spotCfg})
	if err != nil {
		log.Error("start failed", zap.Error(err))
		return 1
	}
	if k := srv.Auth.BootstrapKey(); k != "" {
		printAdminKey(stderr, k)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
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
