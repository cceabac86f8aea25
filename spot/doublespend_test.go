package spot

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

type account struct {
	rev     string
	balance int
}

// readAccounts reads every account in one read-only transaction (one
// consistent, linearizable snapshot).
func readAccounts(ctx context.Context, c *httpClient, n int) (map[string]account, error) {
	var ops []string
	for i := 0; i < n; i++ {
		ops = append(ops, fmt.Sprintf(`{"op":"read","collection":"bank","key":"a%d"}`, i))
	}
	status, a, err := c.txn(ctx, `{"operations":[`+strings.Join(ops, ",")+`]}`)
	if err != nil || status != http.StatusOK {
		return nil, fmt.Errorf("read accounts: %d %s %v", status, a.ErrorMessage, err)
	}
	out := map[string]account{}
	for _, r := range a.Results {
		var d struct{ Balance int }
		if err := jsonUnmarshal(r.Doc, &d); err != nil {
			return nil, err
		}
		out[r.Key] = account{rev: r.Rev, balance: d.Balance}
	}
	return out, nil
}

// TestNoDoubleSpend: clients in both regions move money between accounts
// with optimistic transactions (read, then transfer with _rev
// preconditions, or with $inc and a value precondition). Every consistent
// snapshot keeps the sum, and no balance goes negative.
func TestNoDoubleSpend(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	f := startFabric(t, 3, 0, nil)
	ctx := ctxT(t)
	if _, err := f.home.svc.CreateCollection(ctx, "_mm", "_system", CollectionSpec{Name: "bank"}); err != nil {
		t.Fatal(err)
	}
	const accounts, start = 5, 100
	setup := newHTTPClient(f.home.url())
	var puts []string
	for i := 0; i < accounts; i++ {
		puts = append(puts, fmt.Sprintf(`{"op":"insert","collection":"bank","key":"a%d","doc":{"balance":%d}}`, i, start))
	}
	if status, a, err := setup.txn(ctx, `{"operations":[`+strings.Join(puts, ",")+`]}`); err != nil || status != http.StatusOK {
		t.Fatalf("setup: %d %s %v", status, a.ErrorMessage, err)
	}
	check := func(where string, accs map[string]account) {
		sum := 0
		for k, a := range accs {
			if a.balance < 0 {
				t.Errorf("%s: %s has balance %d", where, k, a.balance)
			}
			sum += a.balance
		}
		if sum != accounts*start {
			t.Errorf("%s: sum %d, want %d (%v)", where, sum, accounts*start, accs)
		}
	}
	const clientsPerRegion, transfersPerClient = 3, 25
	var committed, refused atomic.Int64
	var wg sync.WaitGroup
	for c := 0; c < 2*clientsPerRegion; c++ {
		base := f.home.url()
		if c >= clientsPerRegion {
			base = f.away.url()
		}
		cl := newHTTPClient(base)
		rng := rand.New(rand.NewPCG(seed, uint64(c)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < transfersPerClient; i++ {
				from, to := rng.IntN(accounts), rng.IntN(accounts-1)
				if to >= from {
					to++
				}
				fk, tk := fmt.Sprintf("a%d", from), fmt.Sprintf("a%d", to)
				accs, err := readAccounts(ctx, cl, accounts)
				if err != nil {
					t.Error(err)
					return
				}
				check("a client's read", accs)
				amount := 1 + rng.IntN(60) // often more than there is: must be refused
				var body string
				if rng.IntN(2) == 0 {
					// Optimistic: both _revs unchanged, balances computed here.
					nf, nt := accs[fk].balance-amount, accs[tk].balance+amount
					if nf < 0 {
						continue
					}
					body = fmt.Sprintf(`{"preconditions":[{"collection":"bank","key":"%s","rev":"%s"},{"collection":"bank","key":"%s","rev":"%s"}],`+
						`"operations":[{"op":"update","collection":"bank","key":"%s","doc":{"balance":%d}},{"op":"update","collection":"bank","key":"%s","doc":{"balance":%d}}]}`,
						fk, accs[fk].rev, tk, accs[tk].rev, fk, nf, tk, nt)
				} else {
					// Increments guarded by the balance read: the precondition
					// fails if anyone moved money from this account since.
					if accs[fk].balance < amount {
						continue
					}
					body = fmt.Sprintf(`{"preconditions":[{"collection":"bank","key":"%s","path":["balance"],"equals":%d}],`+
						`"operations":[{"op":"update","collection":"bank","key":"%s","doc":{"balance":{"$inc":%d}}},{"op":"update","collection":"bank","key":"%s","doc":{"balance":{"$inc":%d}}}]}`,
						fk, accs[fk].balance, fk, -amount, tk, amount)
				}
				status, a, err := cl.txn(ctx, body)
				switch {
				case err != nil:
					t.Error(err)
					return
				case status == http.StatusOK:
					committed.Add(1)
				case status == http.StatusPreconditionFailed:
					refused.Add(1)
				default:
					t.Errorf("transfer: %d %s", status, a.ErrorMessage)
					return
				}
			}
		}()
	}
	// An auditor reads snapshots while the transfers run.
	stop := make(chan struct{})
	audits := make(chan int)
	go func() {
		n := 0
		defer func() { audits <- n }()
		auditor := newHTTPClient(f.away.url())
		for {
			select {
			case <-stop:
				return
			default:
			}
			accs, err := readAccounts(ctx, auditor, accounts)
			if err != nil {
				t.Error(err)
				return
			}
			check("an audit", accs)
			n++
		}
	}()
	wg.Wait()
	close(stop)
	n := <-audits
	final, err := readAccounts(ctx, setup, accounts)
	if err != nil {
		t.Fatal(err)
	}
	check("the final state", final)
	if committed.Load() == 0 || refused.Load() == 0 {
		t.Errorf("%d transfers committed, %d refused: the run did not contend", committed.Load(), refused.Load())
	}
	t.Logf("%d transfers committed, %d refused by a precondition, %d audits, final %v", committed.Load(), refused.Load(), n, final)
}
