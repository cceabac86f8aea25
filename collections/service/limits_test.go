package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections/query"
)

// TestQueryLimits checks the time limit, the in-memory row limit and the
// batch byte limit of queries.
func TestQueryLimits(t *testing.T) {
	dir := t.TempDir()
	node, err := broker.Open(broker.Config{Region: "us", DataDir: dir}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	svc, err := Open(node, Options{MaxQueryTime: time.Nanosecond, MaxMemoryRows: 100, MaxBatchBytes: 1000, SweepInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	tenant, fabric := naming.DefaultTenant, naming.SystemFabric
	if _, err := svc.CreateCollection(tenant, fabric, CollectionSpec{Name: "users"}); err != nil {
		t.Fatal(err)
	}
	ws := make([]Write, 1000)
	for i := range ws {
		ws[i] = Write{Kind: Insert, Key: fmt.Sprintf("k%04d", i), Doc: map[string]any{"n": json.Number(fmt.Sprint(i))}}
	}
	if _, err := svc.Write(users, ws); err != nil {
		t.Fatal(err)
	}
	run := func(q string, batch int) (Batch, error) {
		return svc.Query(tenant, fabric, QueryRequest{Query: q, Params: query.Params{}, BatchSize: batch})
	}
	if _, err := run("SELECT COUNT(*) FROM users WHERE n > 5", 0); !errors.Is(err, ErrQueryTimeout) {
		t.Fatalf("a scan of 1000 documents with a 1 ns limit: %v", err)
	}
	svc.opts.MaxQueryTime = time.Minute
	if _, err := run("SELECT * FROM users ORDER BY n DESC", 0); !errors.Is(err, query.ErrTooManyRows) {
		t.Fatalf("a sort of 1000 rows with a limit of 100: %v", err)
	}
	b, err := run("SELECT * FROM users ORDER BY n DESC LIMIT 10", 0)
	if err != nil || len(b.Result) != 10 {
		t.Fatalf("a sort with LIMIT keeps only the top rows: %v %d", err, len(b.Result))
	}
	b, err = run("SELECT * FROM users", 500)
	if err != nil || len(b.Result) >= 500 || !b.HasMore || b.ID == "" {
		t.Fatalf("a batch past MaxBatchBytes ends early: %v, %d rows, hasMore %v", err, len(b.Result), b.HasMore)
	}
	if err := svc.DeleteCursor(tenant, fabric, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := run("SELECT * FROM users", DefaultMaxBatchSize+1); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("batch size over the limit: %v", err)
	}
}
