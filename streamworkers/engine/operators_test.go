package engine

import (
	"errors"
	"strings"
	"testing"
)

// scenario is a query, its inputs and the rows and errors it must give.
type scenario struct {
	name  string
	query string
	lk    Lookup
	lim   Limits
	steps []step
	want  []string
}

func runScenarios(t *testing.T, cases []scenario) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := mustCompile(t, tc.query)
			w, err := p.NewWorker(nil, tc.lk, tc.lim)
			if err != nil {
				t.Fatal(err)
			}
			check(t, tc.name, run(t, w, tc.steps), tc.want)
		})
	}
}

func TestProject(t *testing.T) {
	runScenarios(t, []scenario{{
		name:  "filter and project",
		query: "INSERT INTO sink SELECT upper(name) AS n, lower(name) AS l, price * 2 AS p, payload.addr.city AS city, _key AS k FROM orders WHERE price > 1",
		steps: []step{
			ev("orders", "k1", `{"name":"Ab","price":3,"addr":{"city":"Oslo"}}`, 0),
			ev("orders", "k2", `{"name":"x","price":1}`, 1),
			ev("orders", "k3", `{"name":"y","price":1.5}`, 2),
		},
		want: []string{
			`k1 {"n":"AB","l":"ab","p":6,"city":"Oslo","k":"k1"}`,
			`k3 {"n":"Y","l":"y","p":3,"city":null,"k":"k3"}`,
		},
	}, {
		name:  "bad input is an error, never a stop",
		query: "SELECT price + 1 AS p FROM orders WHERE price > 1",
		steps: []step{
			ev("orders", "k1", `not json`, 0),
			ev("orders", "k2", `[1,2]`, 0),
			ev("orders", "k3", `{"price":"cheap"}`, 0),
			ev("orders", "k4", `{"price":5}`, 0),
			ev("orders", "k5", `{}`, 0),
		},
		want: []string{
			`ERR orders@1: streamworkers: payload is not a JSON object: cannot parse JSON: unexpected value found: "not json"; unparsed tail: "not json"`,
			`ERR orders@2: streamworkers: payload is not a JSON object (a JSON array)`,
			`ERR orders@3: WHERE: >: streamworkers: type error: cannot compare a string with a number`,
			`k4 {"p":6}`,
		},
	}, {
		name: "functions",
		query: `SELECT concat(a, '-', b) AS c, substring(a, 2, 3) AS sub, substring(a, -2) AS tail, length(a) AS len,
			replace(a, 'l', 'L') AS rep, trim(sp) AS tr, abs(n) AS ab, round(f, 1) AS r, floor(f) AS fl, ceil(f) AS ce,
			mod(7, 3) AS m, power(2, 10) AS pw, n DIV 4 AS d, 7 / 0 AS z, json_extract(doc, '$.x[1].y') AS j,
			CASE WHEN n < 0 THEN 'neg' WHEN n = 0 THEN 'zero' ELSE 'pos' END AS sign, CASE a WHEN 'hello' THEN 1 ELSE 2 END AS cs,
			CAST(s AS SIGNED) AS si, CAST(n AS CHAR) AS sc, CAST('2.5' AS DECIMAL) AS dc, a LIKE 'he%o' AS lk,
			n IN (1, -9) AS isin, b IS NULL AS bn, missing IS NULL AS mn, coalesce(missing, 'dflt') AS co, doc AS raw, t.u AS dotted
			FROM orders`,
		steps: []step{ev("orders", "k", `{"a":"hello","b":"w","sp":"  x ","n":-9,"f":2.46,"s":"42.9","doc":{"x":[0,{"y":true}]},"t":{"u":[1]}}`, 0)},
		want:  []string{`k {"c":"hello-w","sub":"ell","tail":"lo","len":5,"rep":"heLLo","tr":"x","ab":9,"r":2.5,"fl":2,"ce":3,"m":1,"pw":1024,"d":-2,"z":null,"j":true,"sign":"neg","cs":1,"si":42,"sc":"-9","dc":2.5,"lk":true,"isin":true,"bn":false,"mn":true,"co":"dflt","raw":{"x":[0,{"y":true}]},"dotted":[1]}`},
	}, {
		name: "time functions: now() is the event time",
		query: `SET @event_time = 'ts'; SELECT now() AS n, unix_timestamp() AS u, unix_timestamp('2026-01-01T00:00:10Z') AS u2,
			date_format(ts, '%Y-%m-%d %H:%i:%s') AS f, ts + INTERVAL 1 MINUTE AS later, _time AS pub FROM orders`,
		steps: []step{ev("orders", "k", `{"ts":"2026-01-01T00:00:05.5Z"}`, 7000)},
		want:  []string{`k {"n":1767225605500,"u":1767225605,"u2":1767225610,"f":"2026-01-01 00:00:05","later":1767225665500,"pub":1767225607000}`},
	}, {
		name:  "SELECT * passes the payload; properties and stream",
		query: "SELECT * FROM orders",
		steps: []step{ev("orders", "k", `{"a": 1, "b": [true]}`, 0)},
		want:  []string{`k {"a":1,"b":[true]}`},
	}, {
		name:  "_key names the row key",
		query: "SELECT concat(user, '/', id) AS _key, id FROM orders",
		steps: []step{ev("orders", "k", `{"user":"u","id":7}`, 0), ev("orders", "k", `{"id":8}`, 0)},
		want:  []string{`u/7 {"id":7}`, `ERR orders@2: streamworkers: type error: _key is NULL`},
	}})
}

// TestDryRunShape: a dry run is Compile, NewWorker(nil state, nil Lookup)
// and Process; a Lookup is required only by a collection join.
func TestDryRunShape(t *testing.T) {
	p := mustCompile(t, "SELECT user, COUNT(*) AS n FROM orders GROUP BY user")
	w, err := p.NewWorker(nil, nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "dry run", run(t, w, []step{ev("orders", "1", `{"user":"a"}`, 0), ev("clicks", "2", `{}`, 0)}), []string{
		`a {"user":"a","n":1}`,
		`ERR clicks@1: streamworkers: stream clicks is not an input of this worker`,
	})
	p = mustCompile(t, "SELECT u.name FROM orders o JOIN users u ON u._key = o.user")
	if _, err := p.NewWorker(nil, nil, Limits{}); err == nil || err.Error() != "streamworkers: the query joins collection users: a Lookup is required" {
		t.Errorf("lookup join without a Lookup: %v", err)
	}
	if _, err := p.NewWorker([]byte("SWE\x03garbage!"), userDocs, Limits{}); !errors.Is(err, ErrState) {
		t.Errorf("garbage snapshot: %v", err)
	}
	other := mustCompile(t, "SELECT u.tier FROM orders o JOIN users u ON u._key = o.user")
	w, _ = other.NewWorker(nil, userDocs, Limits{})
	snap, _ := w.Snapshot()
	if _, err := p.NewWorker(snap, userDocs, Limits{}); err == nil || err.Error() != "streamworkers: bad state: the snapshot is of another query" {
		t.Errorf("snapshot of another query: %v", err)
	}
}

func TestLikeIsBounded(t *testing.T) {
	p := mustCompile(t, "SELECT a LIKE pat AS m FROM orders")
	w, _ := p.NewWorker(nil, nil, Limits{})
	big := strings.Repeat("a", 1<<20)
	pat := strings.Repeat("%a", 100) + "b"
	rows, errs := w.Process(Event{Stream: "orders", Payload: []byte(`{"a":"` + big + `","pat":"` + pat + `"}`)})
	if len(rows) != 0 || len(errs) != 1 || !errors.Is(errs[0].Err, ErrLimit) {
		t.Fatalf("rows %d errs %v", len(rows), errs)
	}
	rows, _ = w.Process(Event{Stream: "orders", Payload: []byte(`{"a":"xaab","pat":"%a_b"}`)})
	if len(rows) != 1 || string(rows[0].Value) != `{"m":true}` {
		t.Fatalf("rows %v", rows)
	}
}

func TestLikeMatch(t *testing.T) {
	for _, tc := range []struct {
		s, p string
		want bool
	}{
		{"", "", true}, {"", "%", true}, {"a", "", false}, {"abc", "a%", true}, {"abc", "%c", true},
		{"abc", "a_c", true}, {"ac", "a_c", false}, {"a%c", `a\%c`, true}, {"abc", `a\%c`, false},
		{"a_c", `a\_c`, true}, {"abc", `a\_c`, false}, {"héllo", "h_llo", true}, {"aaab", "%a%ab", true},
		{"mississippi", "%ss%ss%", true}, {"mississippi", "%ss%ss%ss%", false}, {`a\`, `a\`, true},
	} {
		if got := likeMatch(tc.s, tc.p, '\\'); got != tc.want {
			t.Errorf("%q LIKE %q = %v, want %v", tc.s, tc.p, got, tc.want)
		}
	}
}

// TestFlush: a dry run ends with Flush, which closes what time would.
func TestFlush(t *testing.T) {
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"SELECT user, COUNT(*) AS n FROM orders GROUP BY user, TUMBLE(ts, '10s')", []string{`b:10000 {"user":"b","n":1}`}}, // [0,10s) fired at ts 11000
		{"SELECT COUNT(*) AS n FROM orders GROUP BY TUMBLE(PROCTIME(), '10s')", []string{`1767225600000 {"n":3}`}},
		{"SELECT user, COUNT(*) AS n FROM orders GROUP BY user, TUMBLE_COUNT(5)", nil},
		{"SET @event_time = 'ts'; SELECT a.user AS u FROM orders a JOIN payments b ON NOT_FOLLOWED_BY(a, b, '1s')", []string{`1 {"u":"a"}`, `2 {"u":"a"}`, `3 {"u":"b"}`}}, // payments sent nothing: the watermark stayed
	} {
		p := mustCompile(t, tc.q)
		w, _ := p.NewWorker(nil, nil, Limits{})
		run(t, w, []step{
			ev("orders", "1", `{"user":"a","ts":1000}`, 0),
			ev("orders", "2", `{"user":"a","ts":2000}`, 0),
			ev("orders", "3", `{"user":"b","ts":11000}`, 0),
		})
		var got []string
		for _, r := range w.Flush() {
			got = append(got, r.Key+" "+string(r.Value))
		}
		check(t, tc.q, got, tc.want)
	}
}
