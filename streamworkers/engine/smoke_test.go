package engine

import "testing"

func TestSmoke(t *testing.T) {
	p := mustCompile(t, "INSERT INTO sink SELECT upper(name) AS n, price * 2 AS p FROM orders WHERE price > 1")
	w, err := p.NewWorker(nil, nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(run(t, w, []step{ev("orders", "k1", `{"name":"ab","price":3}`, 0), ev("orders", "k2", `{"name":"x","price":1}`, 1), ev("orders", "k3", `nope`, 2), ev("orders", "k4", `{"name":"x","price":"s"}`, 2)}))
	p = mustCompile(t, "SELECT user, COUNT(*) AS c, SUM(amount) AS s, WINDOW_START() AS ws FROM orders GROUP BY user, TUMBLE(_time, '10s')")
	w, _ = p.NewWorker(nil, nil, Limits{})
	t.Log(run(t, w, []step{ev("orders", "k1", `{"user":"a","amount":3}`, 0), ev("orders", "k2", `{"user":"b","amount":1}`, 5000), ev("orders", "k3", `{"user":"a","amount":2}`, 9000), ev("orders", "k3", `{"user":"a","amount":2}`, 12000), ev("orders", "k3", `{"user":"a","amount":2}`, 1000)}))
}
