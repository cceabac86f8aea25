package engine

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestCompileGood(t *testing.T) {
	for _, tc := range []struct {
		q      string
		inputs string
		out    Output
	}{
		{"SELECT * FROM orders", "orders", Output{OutputStream, ""}},
		{"INSERT INTO sink SELECT a, b.c, payload.d.e FROM orders WHERE x > 1", "orders", Output{OutputStream, "sink"}},
		{"REPLACE INTO totals SELECT user AS _key, COUNT(*) AS n FROM orders GROUP BY user", "orders", Output{OutputCollection, "totals"}},
		{"INSERT INTO streams.shared SELECT a FROM orders", "orders", Output{OutputStream, "shared"}},
		{"REPLACE INTO collections.shared SELECT a FROM orders", "orders", Output{OutputCollection, "shared"}},
		{"SELECT user, SUM(amount) FROM orders GROUP BY user, TUMBLE(ts, '10s') HAVING SUM(amount) > 10", "orders", Output{}},
		{"SELECT COUNT(*) FROM orders GROUP BY HOP(ts, '5s', '30s')", "orders", Output{}},
		{"SELECT COUNT(*) FROM orders GROUP BY SESSION_WINDOW(_time, '1m')", "orders", Output{}},
		{"SELECT COUNT(*) FROM orders GROUP BY TUMBLE(PROCTIME(), '1s')", "orders", Output{}},
		{"SELECT user, AVG(x) FROM orders GROUP BY user, TUMBLE_COUNT(100)", "orders", Output{}},
		{"SELECT MAX(x) FROM orders GROUP BY SLIDE_COUNT(5)", "orders", Output{}},
		{"SET @event_time = 'ts', @watermark_delay = '2s'; SET @allowed_lateness = '5s', @idle_timeout = '1m'; SELECT COUNT(*) FROM orders GROUP BY TUMBLE(ts, '10s')", "orders", Output{}},
		{"SELECT o.id, p.amount FROM orders o JOIN payments p ON o.id = p.order_id AND p.ts BETWEEN o.ts - INTERVAL 5 SECOND AND o.ts + INTERVAL 10 SECOND", "orders,payments", Output{}},
		{"SELECT o.id, u.name FROM orders o JOIN users u ON u._key = o.user", "orders", Output{}},
		{"SELECT o.id, u.name FROM orders o LEFT JOIN collections.users u ON o.user = u._key", "orders", Output{}},
		{"SELECT a.user FROM logins a JOIN payments b ON FOLLOWED_BY(a, b, '10s') AND a.user = b.user AND b.amount > 100", "logins,payments", Output{}},
		{"SELECT a.user FROM logins a JOIN logins b ON NOT_FOLLOWED_BY(a, b, '1m') AND a.kind = 'start' AND b.kind = 'end'", "logins", Output{}},
		{"SELECT CASE WHEN x > 1 THEN 'big' ELSE 'small' END AS size, CAST(y AS SIGNED) AS yi, concat(a, '-', b) AS ab, round(z, 2) AS r, date_format(_time, '%Y-%m-%d') AS d, json_extract(doc, '$.a[0]') AS j FROM orders", "orders", Output{}},
	} {
		p, err := Compile(tc.q, testCat)
		if err != nil {
			t.Errorf("Compile(%q): %v", tc.q, err)
			continue
		}
		if got := strings.Join(p.Inputs, ","); got != tc.inputs || p.Output != tc.out {
			t.Errorf("Compile(%q): inputs %s output %+v, want %s %+v", tc.q, got, p.Output, tc.inputs, tc.out)
		}
	}
}

func TestCompileBad(t *testing.T) {
	for _, tc := range []struct{ q, err string }{
		{"", "streamworkers: empty query"},
		{"SELEC * FROM orders", `streamworkers: at offset 5: syntax error: line 1 column 5 near "SELEC * FROM orders"`},
		{"SELECT * FROM nowhere", "streamworkers: at offset 14: unknown stream nowhere"},
		{"SELECT * FROM users", "streamworkers: at offset 14: users is a collection: a worker reads a stream (join the collection to enrich it)"},
		{"SELECT * FROM shared", "streamworkers: at offset 14: shared is both a stream and a collection: write streams.shared or collections.shared"},
		{"SELECT * FROM collections.nope", "streamworkers: at offset 26: unknown collection nope"},
		{"SELECT nosuch(a) FROM orders", "streamworkers: at offset 7: unknown function NOSUCH"},
		{"SELECT upper(a, b) FROM orders", "streamworkers: at offset 7: UPPER takes 1 argument"},
		{"INSERT INTO users SELECT a FROM orders", "streamworkers: at offset 12: users is a collection: upsert into it with REPLACE INTO"},
		{"REPLACE INTO sink SELECT a FROM orders", "streamworkers: at offset 13: sink is a stream: write it with INSERT INTO"},
		{"INSERT INTO orders SELECT a FROM orders", "streamworkers: at offset 12: the worker would read its own output stream orders"},
		{"INSERT INTO sink VALUES (1)", "streamworkers: INSERT and REPLACE take a SELECT (not VALUES or SET)"},
		{"SELECT a FROM orders ORDER BY a", "streamworkers: ORDER BY is not supported on a stream"},
		{"SELECT a FROM orders LIMIT 1", "streamworkers: LIMIT is not supported on a stream"},
		{"SELECT a, COUNT(*) FROM orders", "streamworkers: at offset 7: field a must appear in GROUP BY or in an aggregate"},
		{"SELECT a FROM orders HAVING a > 1", "streamworkers: at offset 7: field a must appear in GROUP BY or in an aggregate"},
		{"SELECT COUNT(*) FROM orders WHERE COUNT(*) > 1", "streamworkers: at offset 7: aggregate COUNT is not allowed here (only in the SELECT list and HAVING)"},
		{"SELECT COUNT(*) FROM orders GROUP BY TUMBLE(ts, 10)", "streamworkers: at offset 48: TUMBLE takes a duration string such as '10s', '1m' or '500ms'"},
		{"SELECT COUNT(*) FROM orders GROUP BY TUMBLE(ts, 'soon')", "streamworkers: at offset 49: TUMBLE: \"soon\" is not a duration between 1ms and a year (such as '10s', '1m', '500ms')"},
		{"SELECT COUNT(*) FROM orders GROUP BY TUMBLE(ts)", "streamworkers: at offset 37: TUMBLE takes TUMBLE(time, 'size')"},
		{"SELECT COUNT(*) FROM orders GROUP BY HOP(ts, '7s', '30s')", "streamworkers: at offset 37: HOP's size must be a multiple of its slide, at most 100 slides"},
		{"SELECT COUNT(*) FROM orders GROUP BY TUMBLE(ts, '1s'), SESSION_WINDOW(ts, '1s')", "streamworkers: at offset 55: GROUP BY takes one window"},
		{"SELECT COUNT(*) FROM orders GROUP BY TUMBLE_COUNT(0)", "streamworkers: at offset 37: TUMBLE_COUNT takes a whole number of events from 1 to 100000"},
		{"SELECT COUNT(*) FROM orders GROUP BY TUMBLE(upper(a), '1s')", "streamworkers: at offset 37: TUMBLE's time is a field, _time or PROCTIME()"},
		{"SELECT TUMBLE(ts, '1s') FROM orders", "streamworkers: at offset 7: TUMBLE is a window: use it in GROUP BY"},
		{"SELECT WINDOW_START() FROM orders GROUP BY a", "streamworkers: at offset 7: WINDOW_START() needs a TUMBLE, HOP or SESSION_WINDOW window"},
		{"SET @watermark = '2s'; SELECT a FROM orders", "streamworkers: at offset 5: unknown option @watermark (want @event_time, @watermark_delay, @allowed_lateness or @idle_timeout)"},
		{"SET @watermark_delay = 'x'; SELECT a FROM orders", "streamworkers: at offset 24: @watermark_delay: \"x\" is not a duration like '2s' or '500ms'"},
		{"SET @watermark_delay = '2s'", "streamworkers: the query is missing after SET"},
		{"SELECT a FROM orders; SELECT b FROM orders", "streamworkers: only SET @option = '...' statements may come before the query"},
		{"SELECT o.a FROM orders o JOIN payments p ON o.id = p.id", "streamworkers: a stream join needs a time bound: ON ... AND p.ts BETWEEN o.ts - INTERVAL n SECOND AND o.ts + INTERVAL n SECOND"},
		{"SELECT o.a FROM orders o JOIN payments p ON p.ts BETWEEN o.ts - INTERVAL 1 SECOND AND o.ts", "streamworkers: a stream join needs at least one equality of the two sides in ON"},
		{"SELECT o.a FROM orders o JOIN payments p ON o.id = p.id AND o.x > 1 AND p.ts BETWEEN o.ts AND o.ts", "streamworkers: at offset 60: a stream join's ON holds equalities of the two sides and one BETWEEN time bound (put other conditions in WHERE): `o`.`x`>1"},
		{"SELECT o.a FROM orders o JOIN payments p ON o.id = p.id AND p.ts BETWEEN o.ts - INTERVAL 1 SECOND AND o.t2", "streamworkers: at offset 65: the join's time bound is p.t BETWEEN o.t - INTERVAL n unit AND o.t + INTERVAL n unit, with the same field t of o on both ends"},
		{"SELECT o.a FROM orders o LEFT JOIN payments p ON o.id = p.id", "streamworkers: LEFT JOIN is for a collection lookup; two streams join with JOIN"},
		{"SELECT o.a FROM orders o JOIN users u ON u.name = o.user", "streamworkers: at offset 30: a collection join is ON u._key = expression of the stream"},
		{"SELECT o.a FROM orders JOIN orders ON orders.a = orders.a", "streamworkers: at offset 16: both sides of the join are called orders: give them aliases"},
		{"SELECT a.x FROM logins a JOIN logins b ON FOLLOWED_BY(b, a, '1s')", "streamworkers: at offset 42: FOLLOWED_BY takes (a, b, 'duration'): the first side, then the second"},
		{"SELECT a.x FROM logins a JOIN logins b ON NOT_FOLLOWED_BY(a, b, '1s') AND a.x < b.x", "streamworkers: NOT_FOLLOWED_BY takes only equalities of the two sides and conditions of one side in ON"},
		{"SELECT * FROM orders GROUP BY a", "streamworkers: at offset 7: SELECT * must be alone, on one stream, without GROUP BY"},
		{"SELECT a AS x, b AS x FROM orders", "streamworkers: at offset 12: two fields named \"x\" (use AS)"},
		{"SELECT CAST(a AS DATETIME) FROM orders", "streamworkers: at offset 7: CAST to datetime is not supported (use SIGNED, UNSIGNED, DOUBLE, DECIMAL or CHAR)"},
		{"SELECT a FROM orders WHERE a IN (SELECT b FROM orders)", "streamworkers: IN (subquery) is not supported"},
		{"SELECT a FROM (SELECT a FROM orders) t", "streamworkers: subqueries in FROM are not supported"},
	} {
		_, err := Compile(tc.q, testCat)
		var ce *CompileError
		if !errors.As(err, &ce) {
			t.Errorf("Compile(%q): %v, want a *CompileError", tc.q, err)
			continue
		}
		if err.Error() != tc.err {
			t.Errorf("Compile(%q):\n got  %s\n want %s", tc.q, err, tc.err)
		}
	}
}

func TestCompileLimits(t *testing.T) {
	long := "SELECT " + strings.Repeat("a+", MaxQueryBytes) + "a FROM orders"
	if _, err := Compile(long, testCat); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("long query: %v", err)
	}
	deep := "SELECT " + strings.Repeat("a+", 2500) + "a FROM orders"
	if _, err := Compile(deep, testCat); err == nil || !strings.Contains(err.Error(), "too complex") {
		t.Errorf("deep query: %v", err)
	}
	if _, err := Compile("SELECT a FROM orders", nil); err == nil {
		t.Error("nil catalog compiled")
	}
}

func TestCompileGroupColumns(t *testing.T) {
	for _, q := range []string{
		"SELECT orders.user, COUNT(*) FROM orders GROUP BY user",
		"SELECT o.user, COUNT(*) FROM orders o GROUP BY payload.user",
		"SET @event_time = 'ts'; SELECT COUNT(*) FROM orders GROUP BY TUMBLE(ts, '1s')",
	} {
		if _, err := Compile(q, testCat); err != nil {
			t.Errorf("Compile(%q): %v", q, err)
		}
	}
	_, err := Compile("SET @event_time = 'ts'; SELECT COUNT(*) FROM orders GROUP BY TUMBLE(t2, '1s')", testCat)
	if want := "streamworkers: at offset 61: TUMBLE's time t2 is not the event time (@event_time = 'ts')"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestLanguageExamples: every sql block of LANGUAGE.md compiles.
func TestLanguageExamples(t *testing.T) {
	b, err := os.ReadFile("LANGUAGE.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(b), "```sql\n")[1:]
	if len(blocks) < 4 {
		t.Fatalf("%d sql blocks in LANGUAGE.md", len(blocks))
	}
	for _, blk := range blocks {
		q := blk[:strings.Index(blk, "```")]
		if _, err := Compile(q, testCat); err != nil {
			t.Errorf("LANGUAGE.md example:\n%s\n%v", q, err)
		}
	}
}
