package engine

import "testing"

func TestWindows(t *testing.T) {
	runScenarios(t, []scenario{{
		name: "tumbling, event time, out of order, late within and beyond the allowed lateness",
		query: `SET @watermark_delay = '2s', @allowed_lateness = '3s';
			SELECT user, COUNT(*) AS n, SUM(amount) AS total, WINDOW_START() AS ws, WINDOW_END() AS we
			FROM orders GROUP BY user, TUMBLE(ts, '10s')`,
		steps: []step{
			ev("orders", "1", `{"user":"a","ts":1000,"amount":1}`, 0),
			ev("orders", "2", `{"user":"b","ts":4000,"amount":2}`, 0),
			ev("orders", "3", `{"user":"a","ts":11000,"amount":3}`, 0),   // watermark 9000
			ev("orders", "4", `{"user":"a","ts":9500,"amount":4}`, 0),    // out of order, on time
			ev("orders", "5", `{"user":"b","ts":12500,"amount":5}`, 0),   // watermark 10500: [0,10s) fires
			ev("orders", "6", `{"user":"a","ts":8000,"amount":10}`, 0),   // late, within 3s: [0,10s) again
			ev("orders", "7", `{"user":"c","ts":16000}`, 0),              // watermark 14000: [0,10s) closes
			ev("orders", "8", `{"user":"a","ts":6000,"amount":1}`, 0),    // beyond the lateness
			ev("orders", "9", `{"user":"x","ts":30000,"amount":0}`, 0),   // watermark 28000: [10s,20s) fires
			ev("orders", "10", `{"user":"a","ts":"soon","amount":0}`, 0), // not a time
			ev("orders", "11", `{"user":"a","amount":0}`, 0),             // no time
		},
		want: []string{
			`a:0 {"user":"a","n":2,"total":5,"ws":0,"we":10000}`,
			`b:0 {"user":"b","n":1,"total":2,"ws":0,"we":10000}`,
			`a:0 {"user":"a","n":3,"total":15,"ws":0,"we":10000}`,
			`ERR orders@8: streamworkers: late event: event time 6000 is behind the watermark 14000 by more than the allowed lateness`,
			`a:10000 {"user":"a","n":1,"total":3,"ws":10000,"we":20000}`,
			`b:10000 {"user":"b","n":1,"total":5,"ws":10000,"we":20000}`,
			`c:10000 {"user":"c","n":1,"total":null,"ws":10000,"we":20000}`,
			`ERR orders@10: streamworkers: type error: event time "soon" is neither Unix milliseconds nor RFC 3339`,
			`ERR orders@11: streamworkers: type error: the event has no event time field`,
		},
	}, {
		name:  "a late row within the lateness opening a window the watermark passed fires it at once",
		query: "SET @allowed_lateness = '20s'; SELECT COUNT(*) AS n FROM orders GROUP BY TUMBLE(ts, '10s')",
		steps: []step{
			ev("orders", "1", `{"ts":25000}`, 0),
			ev("orders", "2", `{"ts":5000}`, 0),  // [0,10s) never had a row
			ev("orders", "3", `{"ts":6000}`, 0),  // and again
			ev("orders", "4", `{"ts":31000}`, 0), // [0,10s) closes, [20s,30s) fires
		},
		want: []string{`0 {"n":1}`, `0 {"n":2}`, `20000 {"n":1}`},
	}, {
		name:  "HAVING",
		query: "SELECT user AS _key, COUNT(*) AS n FROM orders GROUP BY user, TUMBLE(ts, '10s') HAVING COUNT(*) >= 2 AND MAX(amount) > 1",
		steps: []step{
			ev("orders", "1", `{"user":"a","ts":1000,"amount":1}`, 0),
			ev("orders", "2", `{"user":"b","ts":2000,"amount":5}`, 0),
			ev("orders", "3", `{"user":"a","ts":3000,"amount":2}`, 0),
			ev("orders", "4", `{"user":"c","ts":4000,"amount":1}`, 0),
			ev("orders", "5", `{"user":"c","ts":5000,"amount":1}`, 0),
			ev("orders", "6", `{"user":"z","ts":10000,"amount":0}`, 0),
		},
		want: []string{`a {"n":2}`},
	}, {
		name:  "an error computing a fired window's row goes with the event (or the Advance) that fired it",
		query: "SET @idle_timeout = '1s'; SELECT user AS _key, MAX(name) AS m FROM orders GROUP BY user, TUMBLE(_time, '10s') HAVING MAX(name) > 5",
		steps: []step{
			ev("orders", "1", `{"user":"a","name":"x"}`, 1000),
			ev("orders", "2", `{"user":"b","name":9}`, 2000),
			ev("orders", "3", `{"user":"a","name":"y"}`, 12000), // fires [0,10s)
			advance(30000), // fires [10s,20s)
		},
		want: []string{
			`b {"m":9}`,
			`ERR orders@3: group (a) window [1767225600000, 1767225610000): HAVING: >: streamworkers: type error: cannot compare a string with a number`,
			`ERR group (a) window [1767225610000, 1767225620000): HAVING: >: streamworkers: type error: cannot compare a string with a number`,
		},
	}, {
		name:  "hopping",
		query: "SELECT COUNT(*) AS n, WINDOW_START() AS ws FROM orders GROUP BY HOP(ts, '5s', '10s')",
		steps: []step{
			ev("orders", "1", `{"ts":1000}`, 0),  // [-5s,5s) [0,10s)
			ev("orders", "2", `{"ts":6000}`, 0),  // [0,10s) [5s,15s); [-5s,5s) fires
			ev("orders", "3", `{"ts":12000}`, 0), // [5s,15s) [10s,20s); [0,10s) fires
			ev("orders", "4", `{"ts":4000}`, 0),  // late: its windows [-5s,5s) and [0,10s) closed
			ev("orders", "5", `{"ts":25000}`, 0),
		},
		want: []string{
			`-5000 {"n":1,"ws":-5000}`,
			`0 {"n":2,"ws":0}`,
			`ERR orders@4: streamworkers: late event: event time 4000 is behind the watermark 12000 by more than the allowed lateness`,
			`5000 {"n":2,"ws":5000}`,
			`10000 {"n":1,"ws":10000}`,
		},
	}, {
		name:  "session windows merge, out of order",
		query: "SELECT user, COUNT(*) AS n, WINDOW_START() AS ws, WINDOW_END() AS we FROM orders GROUP BY user, SESSION_WINDOW(ts, '5s')",
		steps: []step{
			ev("orders", "1", `{"user":"a","ts":1000}`, 0),
			ev("orders", "2", `{"user":"b","ts":2000}`, 0),
			ev("orders", "3", `{"user":"a","ts":4000}`, 0),  // a: [1s, 9s)
			ev("orders", "4", `{"user":"a","ts":20000}`, 0), // fires b [2s,7s) then a [1s,9s)
			ev("orders", "5", `{"user":"a","ts":12000}`, 0), // [12s,17s) is closed and meets no open session
			ev("orders", "6", `{"user":"a","ts":16000}`, 0), // [16s,21s) merges with [20s,25s)
			ev("orders", "7", `{"user":"z","ts":40000}`, 0),
		},
		want: []string{
			`b:2000 {"user":"b","n":1,"ws":2000,"we":7000}`,
			`a:1000 {"user":"a","n":2,"ws":1000,"we":9000}`,
			`ERR orders@5: streamworkers: late event: event time 12000 is behind the watermark 20000 by more than the allowed lateness`,
			`a:16000 {"user":"a","n":2,"ws":16000,"we":25000}`,
		},
	}, {
		name:  "session: a late event within the lateness extends a fired session, which fires again",
		query: "SET @allowed_lateness = '10s'; SELECT user, COUNT(*) AS n, WINDOW_END() AS we FROM orders GROUP BY user, SESSION_WINDOW(ts, '5s')",
		steps: []step{
			ev("orders", "1", `{"user":"a","ts":1000}`, 0),
			ev("orders", "2", `{"user":"z","ts":7000}`, 0),  // fires a [1s,6s)
			ev("orders", "3", `{"user":"a","ts":3000}`, 0),  // a: [1s,8s), open again
			ev("orders", "4", `{"user":"a","ts":2000}`, 0),  // within it
			ev("orders", "5", `{"user":"z","ts":20000}`, 0), // fires a [1s,8s) then z [7s,12s)
		},
		want: []string{
			`a:1000 {"user":"a","n":1,"we":6000}`,
			`a:1000 {"user":"a","n":3,"we":8000}`,
			`z:7000 {"user":"z","n":1,"we":12000}`,
		},
	}, {
		name:  "tumbling count window",
		query: "SELECT user, COUNT(*) AS n, SUM(x) AS s FROM orders GROUP BY user, TUMBLE_COUNT(2)",
		steps: []step{
			ev("orders", "1", `{"user":"a","x":1}`, 0),
			ev("orders", "2", `{"user":"b","x":10}`, 0),
			ev("orders", "3", `{"user":"a","x":2}`, 0),
			ev("orders", "4", `{"user":"a","x":3}`, 0),
			ev("orders", "5", `{"user":"b","x":20}`, 0),
			ev("orders", "6", `{"user":"a","x":4}`, 0),
		},
		want: []string{`a {"user":"a","n":2,"s":3}`, `b {"user":"b","n":2,"s":30}`, `a {"user":"a","n":2,"s":7}`},
	}, {
		name:  "sliding length window",
		query: "SELECT MAX(x) AS mx, MIN(x) AS mn, AVG(x) AS av, COUNT(*) AS n FROM orders GROUP BY SLIDE_COUNT(3)",
		steps: []step{
			ev("orders", "1", `{"x":5}`, 0),
			ev("orders", "2", `{"x":1}`, 0),
			ev("orders", "3", `{"x":3}`, 0),
			ev("orders", "4", `{"x":2}`, 0),
			ev("orders", "5", `{"x":"two"}`, 0),
			ev("orders", "6", `{}`, 0),
		},
		want: []string{
			`all {"mx":5,"mn":5,"av":5,"n":1}`,
			`all {"mx":5,"mn":1,"av":3,"n":2}`,
			`all {"mx":5,"mn":1,"av":3,"n":3}`,
			`all {"mx":3,"mn":1,"av":2,"n":3}`,
			`ERR orders@5: streamworkers: type error: SUM and AVG want numbers, got a string`,
			`all {"mx":3,"mn":2,"av":2.5,"n":3}`,
		},
	}, {
		name:  "processing-time window closes on Advance",
		query: "SELECT COUNT(*) AS n FROM orders GROUP BY TUMBLE(PROCTIME(), '10s')",
		steps: []step{
			ev("orders", "1", `{}`, 1000),
			ev("orders", "2", `{}`, 2000),
			advance(5000),
			ev("orders", "3", `{}`, 3000), // processing time is 5000 (the last Advance)
			advance(10000),
			ev("orders", "4", `{}`, 11000),
			advance(25000),
		},
		want: []string{`1767225600000 {"n":3}`, `1767225610000 {"n":1}`},
	}, {
		name:  "idle input: Advance moves the watermark",
		query: "SET @idle_timeout = '5s'; SELECT COUNT(*) AS n FROM orders GROUP BY TUMBLE(_time, '10s')",
		steps: []step{
			ev("orders", "1", `{}`, 1000),
			ev("orders", "2", `{}`, 3000),
			advance(12000), // watermark 7000
			advance(15000), // watermark 10000
		},
		want: []string{`1767225600000 {"n":2}`},
	}, {
		name:  "continuous GROUP BY upserts a collection",
		query: "REPLACE INTO totals SELECT user AS _key, COUNT(*) AS n, SUM(amount) AS s, MIN(item) AS first FROM orders GROUP BY user",
		steps: []step{
			ev("orders", "1", `{"user":"a","amount":1,"item":"pear"}`, 0),
			ev("orders", "2", `{"user":"b","amount":2,"item":"fig"}`, 0),
			ev("orders", "3", `{"user":"a","amount":"3","item":"apple"}`, 0),
			ev("orders", "4", `{"user":"a","amount":3,"item":"apple"}`, 0),
			ev("orders", "5", `{"user":"a","amount":3,"item":7}`, 0),
		},
		want: []string{
			`a {"n":1,"s":1,"first":"pear"}`,
			`b {"n":1,"s":2,"first":"fig"}`,
			`ERR orders@3: streamworkers: type error: SUM and AVG want numbers, got a string`,
			`a {"n":2,"s":4,"first":"apple"}`,
			`ERR orders@5: MIN/MAX: streamworkers: type error: cannot compare a number with a string`,
		},
	}, {
		name:  "window limit",
		query: "SELECT user, COUNT(*) AS n FROM orders GROUP BY user, TUMBLE(ts, '10s')",
		lim:   Limits{MaxWindows: 2},
		steps: []step{
			ev("orders", "1", `{"user":"a","ts":1000}`, 0),
			ev("orders", "2", `{"user":"b","ts":1000}`, 0),
			ev("orders", "3", `{"user":"c","ts":1000}`, 0),
			ev("orders", "4", `{"user":"a","ts":2000}`, 0),
			ev("orders", "5", `{"user":"a","ts":10000}`, 0), // fires and frees [0,10s)
			ev("orders", "6", `{"user":"c","ts":11000}`, 0),
			ev("orders", "7", `{"user":"c","ts":30000}`, 0),
		},
		want: []string{
			`ERR orders@3: streamworkers: limit reached: 3 open windows would exceed 2`,
			`a:0 {"user":"a","n":2}`,
			`b:0 {"user":"b","n":1}`,
			`a:10000 {"user":"a","n":1}`,
			`c:10000 {"user":"c","n":1}`,
		},
	}, {
		name:  "state limit",
		query: "SELECT user, COUNT(*) AS n FROM orders GROUP BY user",
		lim:   Limits{MaxStateBytes: 400},
		steps: []step{
			ev("orders", "1", `{"user":"a"}`, 0),
			ev("orders", "2", `{"user":"b"}`, 0),
			ev("orders", "3", `{"user":"c"}`, 0),
			ev("orders", "4", `{"user":"a"}`, 0),
		},
		want: []string{
			`a {"user":"a","n":1}`,
			`b {"user":"b","n":1}`,
			`ERR orders@3: streamworkers: limit reached: state of 543 bytes would exceed 400`,
			`a {"user":"a","n":2}`,
		},
	}})
}
