package spot

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestBodies(t *testing.T) {
	var tr txnBody
	if err := json.Unmarshal(transferBody("c", 3, 7, 5), &tr); err != nil {
		t.Fatal(err)
	}
	if len(tr.Ops) != 2 || tr.Ops[0].Key != "a3" || tr.Ops[1].Key != "a7" || tr.Ops[0].Op != "update" ||
		string(tr.Ops[0].Doc) != `{"balance":{"$inc":-5}}` || string(tr.Ops[1].Doc) != `{"balance":{"$inc":5}}` {
		t.Errorf("transfer body %+v", tr)
	}
	var seed txnBody
	_ = json.Unmarshal(seedBody("c", 10, 13, 100), &seed)
	if len(seed.Ops) != 3 || seed.Ops[2].Key != "a12" || seed.Ops[0].Op != "insert" || string(seed.Ops[0].Doc) != `{"balance":100}` {
		t.Errorf("seed body %+v", seed)
	}
	var rd txnBody
	_ = json.Unmarshal(readBody("c", 0, 2), &rd)
	if len(rd.Ops) != 2 || rd.Ops[1].Op != "read" || rd.Ops[1].Key != "a1" {
		t.Errorf("read body %+v", rd)
	}
}

func TestSumBalances(t *testing.T) {
	sum, found, missing, err := sumBalances([]byte(`{"error":false,"code":200,"results":[
		{"_key":"a0","found":true,"doc":{"_key":"a0","balance":10}},
		{"_key":"a1","found":false},
		{"_key":"a2","found":true,"doc":{"balance":-3}}],"index":9}`))
	if err != nil || sum != 7 || found != 2 || missing != 1 {
		t.Errorf("sumBalances = %d, %d, %d, %v", sum, found, missing, err)
	}
	for _, in := range []string{`x`, `{"results":[{"found":true,"doc":{"balance":1.5}}]}`, `{"results":[{"found":true,"doc":"x"}]}`} {
		if _, _, _, err := sumBalances([]byte(in)); !errors.Is(err, errAnswer) {
			t.Errorf("sumBalances(%s) = %v, want errAnswer", in, err)
		}
	}
}
