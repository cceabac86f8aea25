package engine

import "testing"

var userDocs = docs{
	"users/u1":  `{"name":"Ann","tier":"gold"}`,
	"users/u3":  `{"name":"Cy","tier":"tin"}`,
	"users/bad": `not json`,
}

func TestJoins(t *testing.T) {
	runScenarios(t, []scenario{{
		name: "stream-stream join within a time bound, out of order and late",
		query: `SET @allowed_lateness = '2s';
			INSERT INTO sink SELECT o.id AS oid, p.amount AS amount, p.ts - o.ts AS gap_ms FROM orders o JOIN payments p
			ON o.id = p.order_id AND p.ts BETWEEN o.ts - INTERVAL 1 SECOND AND o.ts + INTERVAL 5 SECOND`,
		steps: []step{
			ev("orders", "1", `{"id":1,"ts":1000}`, 0),
			ev("payments", "1", `{"order_id":1,"amount":10,"ts":3000}`, 0),
			ev("payments", "2", `{"order_id":2,"amount":20,"ts":2500}`, 0), // out of order, within the lateness
			ev("orders", "2", `{"id":2,"ts":2000}`, 0),
			ev("payments", "3", `{"order_id":1,"amount":30,"ts":7000}`, 0), // after o1's bound
			ev("orders", "3", `{"id":1,"ts":6500}`, 0),
			ev("payments", "4", `{"order_id":1,"amount":40,"ts":4000}`, 0), // late
			ev("orders", "4", `{"id":"1","ts":6600}`, 0),                   // a string key is another key
			ev("orders", "5", `{"ts":6600}`, 0),                            // no key: joins nothing
			ev("orders", "6", `{"id":1}`, 0),                               // no time
		},
		want: []string{
			`1 {"oid":1,"amount":10,"gap_ms":2000}`,
			`2 {"oid":2,"amount":20,"gap_ms":500}`,
			`3 {"oid":1,"amount":30,"gap_ms":500}`,
			`ERR payments@4: streamworkers: late event: event time 4000 is behind the watermark 6500 by more than the allowed lateness`,
			`ERR orders@6: streamworkers: type error: the event has no event time field`,
		},
	}, {
		name: "stream join feeding a tumbling window",
		query: `SELECT o.region AS region, COUNT(*) AS paid, SUM(p.amount) AS total FROM orders o JOIN payments p
			ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL 5 SECOND GROUP BY o.region, TUMBLE(o.ts, '10s')`,
		steps: []step{
			ev("orders", "1", `{"id":1,"region":"eu","ts":1000}`, 0),
			ev("orders", "2", `{"id":2,"region":"eu","ts":2000}`, 0),
			ev("orders", "3", `{"id":3,"region":"us","ts":3000}`, 0),
			ev("payments", "1", `{"order_id":1,"amount":5,"ts":4000}`, 0),
			ev("payments", "2", `{"order_id":3,"amount":7,"ts":4500}`, 0),
			ev("payments", "3", `{"order_id":2,"amount":1,"ts":9000}`, 0),  // after order 2's bound
			ev("orders", "4", `{"id":4,"region":"eu","ts":12000}`, 0),      // orders pass 10 s
			ev("payments", "4", `{"order_id":9,"amount":0,"ts":12500}`, 0), // and payments: the watermark passes 10 s
		},
		want: []string{`eu:0 {"region":"eu","paid":1,"total":5}`, `us:0 {"region":"us","paid":1,"total":7}`},
	}, {
		name:  "lookup join feeding a continuous aggregate",
		query: "REPLACE INTO totals SELECT u.tier AS _key, COUNT(*) AS orders FROM orders o LEFT JOIN users u ON u._key = o.user GROUP BY u.tier",
		lk:    userDocs,
		steps: []step{
			ev("orders", "1", `{"user":"u1"}`, 0),
			ev("orders", "2", `{"user":"u3"}`, 0),
			ev("orders", "3", `{"user":"u1"}`, 0),
			ev("orders", "4", `{"user":"nobody"}`, 0),
		},
		want: []string{`gold {"orders":1}`, `tin {"orders":1}`, `gold {"orders":2}`, `ERR orders@4: group (NULL): streamworkers: type error: _key is NULL`},
	}, {
		name: "an input read behind another (a backlog) is not late: the watermark is the slowest input's",
		query: `SELECT o.id AS oid, p.amount AS amount FROM orders o JOIN payments p
			ON o.id = p.order_id AND p.ts BETWEEN o.ts AND o.ts + INTERVAL 5 SECOND`,
		steps: []step{
			ev("payments", "1", `{"order_id":1,"amount":10,"ts":3000}`, 0),
			ev("payments", "2", `{"order_id":2,"amount":20,"ts":60000}`, 0),
			ev("orders", "1", `{"id":1,"ts":1000}`, 0), // a minute of orders behind payments: matched, not late
			ev("orders", "2", `{"id":2,"ts":58000}`, 0),
			ev("orders", "3", `{"id":3,"ts":57000}`, 0), // behind orders' own 58 s: late
		},
		want: []string{
			`1 {"oid":1,"amount":10}`,
			`2 {"oid":2,"amount":20}`,
			`ERR orders@3: streamworkers: late event: event time 57000 is behind the watermark 58000 by more than the allowed lateness`,
		},
	}, {
		name:  "stream self-join",
		query: "SELECT a.n AS x, b.n AS y FROM clicks a JOIN clicks b ON a.user = b.user AND b.ts BETWEEN a.ts AND a.ts + INTERVAL 1 SECOND WHERE a.n <> b.n",
		steps: []step{
			ev("clicks", "k", `{"user":"u","n":1,"ts":1000}`, 0),
			ev("clicks", "k", `{"user":"u","n":2,"ts":1500}`, 0),
			ev("clicks", "k", `{"user":"u","n":3,"ts":3000}`, 0),
		},
		want: []string{`k {"x":1,"y":2}`},
	}, {
		name:  "lookup join (LEFT) enriches from a collection",
		query: "SELECT o.id AS id, u.name AS name, u.tier AS tier FROM orders o LEFT JOIN users u ON u._key = o.user",
		lk:    userDocs,
		steps: []step{
			ev("orders", "1", `{"id":1,"user":"u1"}`, 0),
			ev("orders", "2", `{"id":2,"user":"u2"}`, 0),
			ev("orders", "3", `{"id":3,"user":"boom"}`, 0),
			ev("orders", "4", `{"id":4}`, 0),
			ev("orders", "5", `{"id":5,"user":"bad"}`, 0),
		},
		want: []string{
			`1 {"id":1,"name":"Ann","tier":"gold"}`,
			`2 {"id":2,"name":null,"tier":null}`,
			`ERR orders@3: streamworkers: lookup failed: users/boom: disk on fire`,
			`4 {"id":4,"name":null,"tier":null}`,
			`ERR orders@5: streamworkers: lookup failed: document users/bad is not a JSON object`,
		},
	}, {
		name:  "lookup join (inner) with WHERE on the document",
		query: "SELECT o.id AS id, u.name AS name FROM orders o JOIN users u ON o.user = u._key WHERE u.tier = 'gold' OR o.vip",
		lk:    userDocs,
		steps: []step{
			ev("orders", "1", `{"id":1,"user":"u1"}`, 0),
			ev("orders", "2", `{"id":2,"user":"u2","vip":true}`, 0),
			ev("orders", "3", `{"id":3,"user":"u3"}`, 0),
			ev("orders", "4", `{"id":4,"user":"u3","vip":true}`, 0),
		},
		want: []string{`1 {"id":1,"name":"Ann"}`, `4 {"id":4,"name":"Cy"}`},
	}, {
		name: "pattern: A followed by B within T, per key",
		query: `SET @event_time = 'ts';
			SELECT a.user AS user, a.ts AS login, b.amount AS amount FROM logins a JOIN payments b
			ON FOLLOWED_BY(a, b, '10s') AND a.user = b.user AND b.amount > 100`,
		steps: []step{
			ev("logins", "1", `{"user":"u1","ts":1000}`, 0),
			ev("payments", "1", `{"user":"u1","amount":50,"ts":2000}`, 0),
			ev("payments", "2", `{"user":"u2","amount":500,"ts":3000}`, 0),
			ev("payments", "3", `{"user":"u1","amount":200,"ts":4000}`, 0), // completes u1's login
			ev("payments", "4", `{"user":"u1","amount":300,"ts":5000}`, 0), // nothing waits
			ev("logins", "2", `{"user":"u1","ts":6000}`, 0),
			ev("payments", "5", `{"user":"u1","amount":300,"ts":17000}`, 0), // too late: the login timed out
			ev("logins", "3", `{"user":"u1","ts":20000}`, 0),
			ev("logins", "4", `{"user":"u1","ts":21000}`, 0),
			ev("payments", "6", `{"user":"u1","amount":"lots","ts":22000}`, 0),
			ev("payments", "7", `{"user":"u1","amount":101,"ts":23000}`, 0), // completes both (once logins pass it)
			ev("logins", "5", `{"user":"u9","ts":30000}`, 0),                // the watermark reaches 23 s
		},
		want: []string{
			`1 {"user":"u1","login":1000,"amount":200}`,
			`3 {"user":"u1","login":20000,"amount":101}`,
			`4 {"user":"u1","login":21000,"amount":101}`,
			`ERR payments@6: pattern condition: >: streamworkers: type error: cannot compare a string with a number`,
		},
	}, {
		name: "pattern over two streams read out of order: matched in event-time order",
		query: `SET @event_time = 'ts';
			SELECT a.user AS user, b.amount AS amount FROM logins a JOIN payments b ON FOLLOWED_BY(a, b, '10s') AND a.user = b.user`,
		steps: []step{
			ev("payments", "1", `{"user":"u1","amount":1,"ts":5000}`, 0), // read before the login it follows
			ev("payments", "2", `{"user":"u1","amount":2,"ts":9000}`, 0),
			ev("logins", "1", `{"user":"u1","ts":4000}`, 0),
			ev("logins", "2", `{"user":"u1","ts":8000}`, 0),
			ev("logins", "3", `{"user":"u1","ts":9500}`, 0), // the watermark reaches 9 s
		},
		want: []string{
			`1 {"user":"u1","amount":1}`,
			`2 {"user":"u1","amount":2}`,
		},
	}, {
		name: "pattern timeout: A not followed by B within T (idle input closes it)",
		query: `SET @idle_timeout = '2s';
			SELECT a.user AS user, a._time AS started FROM logins a JOIN logins b
			ON NOT_FOLLOWED_BY(a, b, '10s') AND a.user = b.user AND a.kind = 'start' AND b.kind = 'done'`,
		steps: []step{
			ev("logins", "1", `{"user":"u1","kind":"start"}`, 1000),
			ev("logins", "2", `{"user":"u2","kind":"start"}`, 2000),
			ev("logins", "3", `{"user":"u1","kind":"done"}`, 5000),
			ev("logins", "4", `{"user":"u3","kind":"start"}`, 9000),
			ev("logins", "5", `{"user":"u9","kind":"noise"}`, 13000), // u2's 10 s are up
			advance(20000), // watermark 18000
			advance(22000), // watermark 20000: u3's are up
		},
		want: []string{
			`2 {"user":"u2","started":1767225602000}`,
			`4 {"user":"u3","started":1767225609000}`,
		},
	}})
}
