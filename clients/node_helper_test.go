package clients_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/clients"
	"github.com/causeway/causeway/server"
)

// startClientNode starts a real node on a loopback port and a client of it;
// both stop when the test ends. ctx bounds the test's waits.
func startClientNode(t *testing.T) (ctx context.Context, c *clients.Client) {
	t.Helper()
	srv, err := server.Start(broker.Config{Region: "e2e", DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0"}, zaptest.NewLogger(t).Named("node"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(func() { _ = srv.Shutdown(ctx); cancel() })
	c, err = clients.New(srv.URL(), clients.WithLogger(zaptest.NewLogger(t).Named("client")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return ctx, c
}
