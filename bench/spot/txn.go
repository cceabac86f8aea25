package spot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// maxTxnOps is the server's bound on operations per transaction
// (spot.MaxTxnOps); seeding and reading back use batches of this size.
const maxTxnOps = 1000

// accountKey names account i.
func accountKey(i int) string { return "a" + strconv.Itoa(i) }

type txnOp struct {
	Op         string          `json:"op"`
	Collection string          `json:"collection"`
	Key        string          `json:"key"`
	Doc        json.RawMessage `json:"doc,omitempty"`
}

type txnBody struct {
	Ops []txnOp `json:"operations"`
}

// transferBody moves amount from account from to account to, atomically.
func transferBody(coll string, from, to int, amount int64) []byte {
	b, _ := json.Marshal(txnBody{Ops: []txnOp{
		{Op: "update", Collection: coll, Key: accountKey(from), Doc: incDoc(-amount)},
		{Op: "update", Collection: coll, Key: accountKey(to), Doc: incDoc(amount)},
	}})
	return b
}

func incDoc(n int64) json.RawMessage {
	return json.RawMessage(`{"balance":{"$inc":` + strconv.FormatInt(n, 10) + `}}`)
}

// seedBody inserts accounts [lo, hi) with balance initial.
func seedBody(coll string, lo, hi int, initial int64) []byte {
	t := txnBody{}
	for i := lo; i < hi; i++ {
		t.Ops = append(t.Ops, txnOp{Op: "insert", Collection: coll, Key: accountKey(i),
			Doc: json.RawMessage(`{"balance":` + strconv.FormatInt(initial, 10) + `}`)})
	}
	b, _ := json.Marshal(t)
	return b
}

// readBody reads accounts [lo, hi).
func readBody(coll string, lo, hi int) []byte {
	t := txnBody{}
	for i := lo; i < hi; i++ {
		t.Ops = append(t.Ops, txnOp{Op: "read", Collection: coll, Key: accountKey(i)})
	}
	b, _ := json.Marshal(t)
	return b
}

// errAnswer is wrapped by errors about a transaction answer.
var errAnswer = errors.New("spot: bad transaction answer")

// sumBalances reads a read transaction's answer: the balances of the
// documents found, and how many were missing.
func sumBalances(answer []byte) (sum int64, found, missing int, err error) {
	var a struct {
		Results []struct {
			Found bool            `json:"found"`
			Doc   json.RawMessage `json:"doc"`
		} `json:"results"`
	}
	if err := json.Unmarshal(answer, &a); err != nil {
		return 0, 0, 0, fmt.Errorf("%w: %w", errAnswer, err)
	}
	for i, r := range a.Results {
		if !r.Found {
			missing++
			continue
		}
		var d struct {
			Balance json.Number `json:"balance"`
		}
		dec := json.NewDecoder(bytes.NewReader(r.Doc))
		dec.UseNumber()
		if err := dec.Decode(&d); err != nil {
			return 0, 0, 0, fmt.Errorf("%w: result %d: %w", errAnswer, i, err)
		}
		v, err := d.Balance.Int64()
		if err != nil {
			return 0, 0, 0, fmt.Errorf("%w: result %d: balance %q", errAnswer, i, d.Balance)
		}
		sum += v
		found++
	}
	return sum, found, missing, nil
}
