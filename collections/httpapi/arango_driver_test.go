package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/causeway/causeway/internal/testkey"

	"github.com/arangodb/go-driver/v2/arangodb"
	"github.com/arangodb/go-driver/v2/arangodb/shared"
	"github.com/arangodb/go-driver/v2/connection"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/auth"
	bhttp "github.com/causeway/causeway/broker/httpapi"
	"github.com/causeway/causeway/broker/ws"
	"github.com/causeway/causeway/collections/httpapi"
	"github.com/causeway/causeway/collections/service"
)

// authNode is a node assembled as server does, with authentication on:
// the gate, the key and login endpoints, the collections.
type authNode struct {
	url   string
	admin string // a superuser key of the default tenant
	node  *broker.Node
	sec   *auth.Service
}

func startAuthNode(t testing.TB) *authNode {
	t.Helper()
	logger := zap.NewNop()
	if _, isBench := t.(*testing.B); !isBench {
		logger = zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	}
	_, admin, err := auth.NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	bn, err := broker.Open(broker.Config{Region: "us-east", DataDir: t.TempDir()}, logger)
	if err != nil {
		t.Fatal(err)
	}
	on := true
	sec, err := auth.New(auth.Config{Enabled: &on, AdminKey: admin, RequestsPerSecond: -1}, bn.MetaKV("auth"), auth.Options{Logger: logger})
	if err != nil {
		_ = bn.Close()
		t.Fatal(err)
	}
	svc, err := service.Open(bn, service.Options{SweepInterval: time.Hour})
	if err != nil {
		_ = bn.Close()
		t.Fatal(err)
	}
	wsrv := ws.New(bn)
	h := bhttp.New(bn, wsrv)
	h.SetGate(sec)
	sec.Mount(h)
	h.SetExtra(httpapi.New(svc, logger))
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		_ = wsrv.Shutdown(ctx)
		if err := svc.Close(); err != nil {
			t.Errorf("collections close: %v", err)
		}
		if err := bn.Close(); err != nil {
			t.Errorf("node close: %v", err)
		}
	})
	return &authNode{url: srv.URL, admin: admin, node: bn, sec: sec}
}

// driverClient connects the official Go driver: with JWT (POST
// /_open/auth, then bearer tokens) or with Basic authentication.
func driverClient(url, user, password string, jwt bool) arangodb.Client {
	endpoint := connection.NewRoundRobinEndpoints([]string{url})
	conn := connection.NewHttpConnection(connection.DefaultHTTPConfigurationWrapper(endpoint, true))
	if jwt {
		conn = connection.NewJWTAuthWrapper(user, password)(conn)
	} else if err := conn.SetAuthentication(connection.NewBasicAuth(user, password)); err != nil {
		panic(err)
	}
	return arangodb.NewClient(conn)
}

type user struct {
	Key  string `json:"_key,omitempty"`
	Rev  string `json:"_rev,omitempty"`
	Name string `json:"name"`
	Age  int    `json:"age"`
}

// readAll drains a batch reader, returning each item's error (nil: ok).
func readAll[T any](t *testing.T, read func() (T, error)) ([]T, []error) {
	t.Helper()
	var out []T
	var errs []error
	for {
		v, err := read()
		if shared.IsNoMoreDocuments(err) {
			return out, errs
		}
		out, errs = append(out, v), append(errs, err)
		if len(out) > 10_000 {
			t.Fatal("reader does not end")
		}
	}
}

func TestGoDriver(t *testing.T) {
	n := startAuthNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for _, jwt := range []bool{true, false} {
		c := driverClient(n.url, "root", n.admin, jwt)
		v, err := c.Version(ctx)
		if err != nil || v.Server != "arango" || v.Version != bhttp.ArangoVersion || v.License != "community" {
			t.Fatalf("jwt %v: version %+v, %v", jwt, v, err)
		}
	}
	// Wrong credentials: the driver reports 401 either way.
	for _, jwt := range []bool{true, false} {
		_, err := driverClient(n.url, "root", testkey.Wrong(n.admin), jwt).Version(ctx)
		if !shared.IsUnauthorized(err) && !connection.IsCodeError(err, http.StatusUnauthorized) {
			t.Fatalf("jwt %v, wrong key: %v", jwt, err)
		}
	}

	c := driverClient(n.url, "root", n.admin, true)
	// Databases are fabrics.
	if _, err := c.CreateDatabase(ctx, "shop", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateDatabase(ctx, "shop", nil); !shared.IsConflict(err) {
		t.Fatalf("second create: %v", err)
	}
	for _, list := range []func(context.Context) ([]arangodb.Database, error){c.Databases, c.AccessibleDatabases} {
		dbs, err := list(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, db := range dbs {
			names = append(names, db.Name())
		}
		if !slices.Equal(names, []string{"_system", "shop"}) {
			t.Fatalf("databases %v", names)
		}
	}
	if ok, err := c.DatabaseExists(ctx, "nope"); ok || err != nil {
		t.Fatalf("exists nope: %v %v", ok, err)
	}
	db, err := c.GetDatabase(ctx, "shop", nil)
	if err != nil {
		t.Fatal(err)
	}

	// Collections.
	col, err := db.CreateCollectionV2(ctx, "users", &arangodb.CreateCollectionPropertiesV2{})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := db.CollectionExists(ctx, "users"); !ok || err != nil {
		t.Fatalf("users exists: %v %v", ok, err)
	}
	if ok, err := db.CollectionExists(ctx, "nope"); ok || err != nil {
		t.Fatalf("nope exists: %v %v", ok, err)
	}
	cols, err := db.Collections(ctx)
	if err != nil || len(cols) != 1 || cols[0].Name() != "users" {
		t.Fatalf("collections %v %v", cols, err)
	}

	// Single documents with _rev preconditions.
	meta, err := col.CreateDocument(ctx, user{Key: "ann", Name: "Ann", Age: 31})
	if err != nil || meta.Key != "ann" || meta.Rev == "" {
		t.Fatalf("create %+v %v", meta, err)
	}
	var ann user
	if m, err := col.ReadDocument(ctx, "ann", &ann); err != nil || ann.Age != 31 || m.Rev != meta.Rev {
		t.Fatalf("read %+v %+v %v", ann, m, err)
	}
	var oldDoc, newDoc user
	upd, err := col.UpdateDocumentWithOptions(ctx, "ann", map[string]any{"age": 32},
		&arangodb.CollectionDocumentUpdateOptions{IfMatch: meta.Rev, OldObject: &oldDoc, NewObject: &newDoc})
	if err != nil || oldDoc.Age != 31 || newDoc.Age != 32 || upd.Rev == meta.Rev {
		t.Fatalf("update %+v old %+v new %+v %v", upd, oldDoc, newDoc, err)
	}
	if _, err := col.UpdateDocumentWithOptions(ctx, "ann", map[string]any{"age": 99},
		&arangodb.CollectionDocumentUpdateOptions{IfMatch: meta.Rev}); !shared.IsPreconditionFailed(err) {
		t.Fatalf("update with a stale _rev: %v", err)
	}
	if _, err := col.CreateDocument(ctx, user{Key: "ann"}); !shared.IsConflict(err) {
		t.Fatalf("insert of an existing key: %v", err)
	}

	// Batches: create, read (one missing), replace with _rev
	// preconditions (one stale), delete.
	cr, err := col.CreateDocuments(ctx, []user{{Key: "bob", Name: "Bob", Age: 40}, {Key: "cy", Name: "Cy", Age: 25}, {Key: "ann"}})
	if err != nil {
		t.Fatal(err)
	}
	cres, cerrs := readAll(t, cr.Read)
	if len(cres) != 3 || cerrs[0] != nil || cerrs[1] != nil || !shared.IsConflict(cerrs[2]) {
		t.Fatalf("batch create %+v %v", cres, cerrs)
	}
	rr, err := col.ReadDocuments(ctx, []string{"bob", "nobody", "cy"})
	if err != nil {
		t.Fatal(err)
	}
	var got []user
	var rerrs []error
	for {
		var u user
		_, err := rr.Read(&u)
		if shared.IsNoMoreDocuments(err) {
			break
		}
		got, rerrs = append(got, u), append(rerrs, err)
	}
	if len(got) != 3 || rerrs[0] != nil || got[0].Age != 40 || !shared.IsNotFound(rerrs[1]) || rerrs[2] != nil || got[2].Name != "Cy" {
		t.Fatalf("batch read %+v %v", got, rerrs)
	}
	noIgnore := false
	rp, err := col.ReplaceDocumentsWithOptions(ctx, []user{{Key: "bob", Rev: cres[0].Rev, Name: "Bob", Age: 41}, {Key: "cy", Rev: "stale", Name: "Cy", Age: 26}},
		&arangodb.CollectionDocumentReplaceOptions{IgnoreRevs: &noIgnore})
	if err != nil {
		t.Fatal(err)
	}
	rres, rperrs := readAll(t, rp.Read)
	if len(rres) != 2 || rperrs[0] != nil || !shared.IsPreconditionFailed(rperrs[1]) {
		t.Fatalf("batch replace %+v %v", rres, rperrs)
	}
	var cy user
	if _, err := col.ReadDocument(ctx, "cy", &cy); err != nil || cy.Age != 25 {
		t.Fatalf("cy after a refused replace %+v %v", cy, err)
	}
	if _, err := col.DeleteDocument(ctx, "cy"); err != nil {
		t.Fatal(err)
	}
	if _, err := col.ReadDocument(ctx, "cy", &cy); !shared.IsNotFound(err) {
		t.Fatalf("read deleted: %v", err)
	}

	// Import: JSON lines, then an array updating one.
	imp, err := col.ImportDocuments(ctx, "{\"_key\":\"d1\",\"age\":50}\n{\"_key\":\"d2\",\"age\":51}\n\n", arangodb.ImportDocumentTypeDocuments)
	if err != nil || imp.Created != 2 || imp.Empty != 1 || imp.Errors != 0 {
		t.Fatalf("import %+v %v", imp, err)
	}
	update := arangodb.ImportOnDuplicateUpdate
	imp, err = col.ImportDocumentsWithOptions(ctx, `[{"_key":"d1","name":"D"},{"_key":"d3","age":52}]`, arangodb.ImportDocumentTypeArray,
		&arangodb.CollectionDocumentImportOptions{OnDuplicate: &update})
	if err != nil || imp.Created != 1 || imp.Updated != 1 {
		t.Fatalf("import update %+v %v", imp, err)
	}
	if count, err := col.Count(ctx); err != nil || count != 5 {
		t.Fatalf("count %d %v", count, err)
	}

	// Indexes.
	idx, created2, err := col.EnsurePersistentIndex(ctx, []string{"age"}, &arangodb.CreatePersistentIndexOptions{Name: "byAge"})
	if err != nil || !created2 || idx.Name != "byAge" {
		t.Fatalf("index %+v %v %v", idx, created2, err)
	}
	if _, created2, err = col.EnsurePersistentIndex(ctx, []string{"age"}, &arangodb.CreatePersistentIndexOptions{Name: "byAge"}); err != nil || created2 {
		t.Fatalf("ensure again: %v %v", created2, err)
	}
	idxs, err := col.Indexes(ctx)
	if err != nil || len(idxs) != 2 {
		t.Fatalf("indexes %+v %v", idxs, err)
	}

	// A query through a cursor of several batches.
	cur, err := db.Query(ctx, "SELECT * FROM users WHERE age >= @lo ORDER BY age", &arangodb.QueryOptions{BindVars: map[string]any{"lo": 40}, BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	var ages []int
	for cur.HasMore() {
		var u user
		if _, err := cur.ReadDocument(ctx, &u); err != nil {
			t.Fatal(err)
		}
		ages = append(ages, u.Age)
	}
	if err := cur.Close(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ages, []int{41, 50, 51, 52}) {
		t.Fatalf("query ages %v", ages)
	}

	// The same question in AQL, with the count, over several batches; an
	// AQL write read back through the driver.
	acur, err := db.Query(ctx, "FOR u IN @@c FILTER u.age >= @lo SORT u.age RETURN u",
		&arangodb.QueryOptions{BindVars: map[string]any{"@c": "users", "lo": 40}, BatchSize: 2, Count: true})
	if err != nil {
		t.Fatal(err)
	}
	if acur.Count() != 4 {
		t.Fatalf("AQL count %d", acur.Count())
	}
	var aqlAges []int
	for acur.HasMore() {
		var u user
		if _, err := acur.ReadDocument(ctx, &u); err != nil {
			t.Fatal(err)
		}
		aqlAges = append(aqlAges, u.Age)
	}
	_ = acur.Close()
	if !slices.Equal(aqlAges, ages) {
		t.Fatalf("AQL ages %v, SQL %v", aqlAges, ages)
	}
	wcur, err := db.Query(ctx, `INSERT {_key: "zed", name: "Zed", age: 60} INTO users RETURN NEW._key`, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = wcur.Close()
	var zed user
	if _, err := col.ReadDocument(ctx, "zed", &zed); err != nil || zed.Age != 60 {
		t.Fatalf("document written by AQL %+v %v", zed, err)
	}
	if _, err := col.DeleteDocument(ctx, "zed"); err != nil {
		t.Fatal(err)
	}

	// Statistics.
	if sum, err := col.Checksum(ctx, nil, nil); err != nil || sum.Revision == "" {
		t.Fatalf("checksum %+v %v", sum, err)
	}
	if fig, err := col.Statistics(ctx, true); err != nil || fig.Count != 5 {
		t.Fatalf("figures %+v %v", fig, err)
	}

	// Basic authentication with a key that may read the fabric: the user
	// name is its tenant; writes are forbidden.
	reader := n.createKey(t, "read:fabric/shop")
	basic := driverClient(n.url, "_mm", reader, false)
	bdb, err := basic.GetDatabase(ctx, "shop", nil)
	if err != nil {
		t.Fatal(err)
	}
	bcol, err := bdb.GetCollection(ctx, "users", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bcol.ReadDocument(ctx, "bob", &ann); err != nil || ann.Age != 41 {
		t.Fatalf("basic read %+v %v", ann, err)
	}
	if _, err := bcol.CreateDocument(ctx, user{Key: "eve"}); !shared.IsForbidden(err) {
		t.Fatalf("a write with a read-only key: %v", err)
	}
	if _, err := driverClient(n.url, "root", reader, false).Version(ctx); !shared.IsUnauthorized(err) {
		t.Fatalf("root with a key that is not a superuser's: %v", err)
	}
}

// createKey creates an API key of the default tenant with grants, as the
// admin.
func (n *authNode) createKey(t *testing.T, grants ...string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": "test", "permissions": grants})
	req, _ := http.NewRequest("POST", n.url+auth.KeysPath, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+n.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct{ Result auth.KeyView }
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || resp.StatusCode != http.StatusCreated || env.Result.Key == "" {
		t.Fatalf("create key: %d %v", resp.StatusCode, err)
	}
	return env.Result.Key
}
