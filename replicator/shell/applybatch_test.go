package shell

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/replicator"
)

// Kinds of the applier tests.
const (
	batchKind Kind = 7 // applied in batches
	plainKind Kind = 8 // an ApplyFunc
	noKind    Kind = 9 // never registered
)

var errOdd = errors.New("odd payload")

// applyRecorder records the calls of the test kinds: one line per call,
// "kind:payload,payload,...".
type applyRecorder struct {
	calls []string
	cur   map[Kind][]string
	wrong bool // the batch function returns one result too few
}

func (r *applyRecorder) batch(items []KindItem) []error {
	errs := make([]error, len(items))
	var ps []string
	for i, it := range items {
		p := string(it.Payload)
		if strings.HasSuffix(p, "!") {
			errs[i] = fmt.Errorf("%s:%d: %w", it.Origin, it.Seq, errOdd)
		}
		if strings.HasSuffix(p, "?") {
			errs[i] = fmt.Errorf("%s:%d not yet: %w", it.Origin, it.Seq, ErrApplyLater)
		}
		if len(p) > 32 {
			p = fmt.Sprintf("<%d bytes>", len(p))
		}
		ps = append(ps, p)
	}
	r.calls = append(r.calls, fmt.Sprintf("%d:%s", batchKind, strings.Join(ps, ",")))
	if r.wrong {
		return errs[1:]
	}
	return errs
}

func (r *applyRecorder) plain(origin string, seq uint64, payload []byte) error {
	r.calls = append(r.calls, fmt.Sprintf("%d:%s", plainKind, payload))
	if strings.HasSuffix(string(payload), "!") {
		return errOdd
	}
	return nil
}

// testApplierShell returns a shell with just what the applier uses: a
// node for stream messages, the batch kind in Options.BatchKinds and the
// plain kind registered.
func testApplierShell(t *testing.T, r *applyRecorder) *Shell {
	t.Helper()
	node, err := broker.Open(broker.Config{Region: "here", DataDir: t.TempDir(), Fsync: "never"}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = node.Close() })
	s := &Shell{node: node, log: zap.NewNop(),
		opts: Options{BatchKinds: map[Kind]BatchApplyFunc{batchKind: r.batch}}.withDefaults()}
	if err := s.RegisterKind(plainKind, r.plain); err != nil {
		t.Fatal(err)
	}
	return s
}

// step describes deliveries: "k:payload" is an op of kind k (local when
// prefixed with "L"), "s:payload" a stream message, "x" a corrupt body.
func testDeliveries(t *testing.T, spec []string, answers map[string]error) []delivery {
	t.Helper()
	name := naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric, Name: "s"}
	ds := make([]delivery, 0, len(spec))
	for i, sp := range spec {
		d := replicator.Delivery{Origin: "there", Seq: uint64(i + 1)}
		local := strings.HasPrefix(sp, "L")
		sp = strings.TrimPrefix(sp, "L")
		switch {
		case sp == "x":
			d.Body = []byte{bodyVersion}
		case strings.HasPrefix(sp, "s:"):
			d.Body = AppendStreamMessage(nil, name, &segment.Record{Payload: []byte(sp[2:]), SequenceID: -1})
		default:
			var k Kind
			var payload string
			if _, err := fmt.Sscanf(sp, "%d:%s", &k, &payload); err != nil {
				t.Fatalf("spec %q: %v", sp, err)
			}
			d.Body = AppendOp(nil, k, []byte(payload))
		}
		dl := delivery{d: d}
		if local {
			key := spec[i]
			dl.req = &pubReq{bodies: [][]byte{d.Body}, opDone: func(dot replicator.Dot, err error) {
				if dot != d.Dot() && err == nil {
					t.Errorf("%s answered with dot %v, want %v", key, dot, d.Dot())
				}
				if _, dup := answers[key]; dup {
					t.Errorf("%s answered twice", key)
				}
				answers[key] = err
			}}
		}
		ds = append(ds, dl)
	}
	return ds
}

// TestApplierBatchesKinds checks where the applier cuts batches of a
// registered kind and that each local publish gets its own op's answer.
func TestApplierBatchesKinds(t *testing.T) {
	big := strings.Repeat("b", 3<<20)
	many := make([]string, 0, 1500)
	for i := range 1500 {
		many = append(many, fmt.Sprintf("7:m%d", i))
	}
	tests := []struct {
		name    string
		spec    []string
		calls   []string // "7:..." batch calls and "8:..." plain calls, in order
		answers map[string]string
	}{
		{"one batch", []string{"7:a", "L7:b", "7:c"}, []string{"7:a,b,c"}, map[string]string{"L7:b": ""}},
		{"errors stay with their op", []string{"L7:a", "L7:b!", "L7:c"}, []string{"7:a,b!,c"},
			map[string]string{"L7:a": "", "L7:b!": "odd payload", "L7:c": ""}},
		{"stream messages cut batches", []string{"7:a", "s:m", "s:n", "7:b", "7:c"}, []string{"7:a", "7:b,c"}, nil},
		{"another kind cuts batches", []string{"7:a", "8:p", "L8:q!", "7:b"}, []string{"7:a", "8:p", "8:q!", "7:b"},
			map[string]string{"L8:q!": "odd payload"}},
		{"unknown kind", []string{"7:a", "L9:u", "7:b"}, []string{"7:a", "7:b"},
			map[string]string{"L9:u": "unknown op kind"}},
		{"corrupt body", []string{"7:a", "Lx", "7:b"}, []string{"7:a,b"}, map[string]string{"Lx": "corrupt op body"}},
		{"bytes bound", []string{"7:" + big, "7:" + big, "7:" + big, "7:d"},
			[]string{"7:<3145728 bytes>,<3145728 bytes>", "7:<3145728 bytes>,d"}, nil},
	}
	tests = append(tests, struct {
		name    string
		spec    []string
		calls   []string
		answers map[string]string
	}{"ops bound", many, []string{
		"7:" + strings.Join(opNames(0, maxApplyBatchOps), ","),
		"7:" + strings.Join(opNames(maxApplyBatchOps, 1500), ","),
	}, nil})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &applyRecorder{}
			s := testApplierShell(t, r)
			answers := map[string]error{}
			if err := applyAll(s, testDeliveries(t, tc.spec, answers)); err != nil {
				t.Fatal(err)
			}
			if strings.Join(r.calls, " | ") != strings.Join(tc.calls, " | ") {
				t.Fatalf("calls:\n%.300s\nwant:\n%.300s", strings.Join(r.calls, " | "), strings.Join(tc.calls, " | "))
			}
			if len(answers) != len(tc.answers) {
				t.Fatalf("answers %v, want %v", answers, tc.answers)
			}
			for k, want := range tc.answers {
				got, ok := answers[k]
				switch {
				case !ok:
					t.Errorf("%s not answered", k)
				case want == "" && got != nil, want != "" && (got == nil || !strings.Contains(got.Error(), want)):
					t.Errorf("%s answered %v, want %q", k, got, want)
				}
			}
		})
	}
}

// applyAll applies deliveries as one step does and waits for the
// appends: the step's error.
func applyAll(s *Shell, ds []delivery) error {
	tr := &waitTracker{}
	a := applier{s: s, t: tr}
	for i := range ds {
		a.left = len(ds) - i
		a.add(&ds[i])
	}
	a.flush()
	return tr.wait()
}

func opNames(from, to int) []string {
	out := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("m%d", i))
	}
	return out
}

// TestApplierBatchWrongResults: a batch function that returns a wrong
// number of results fails every op of the batch (none is answered as
// applied).
func TestApplierBatchWrongResults(t *testing.T) {
	r := &applyRecorder{wrong: true}
	s := testApplierShell(t, r)
	answers := map[string]error{}
	_ = applyAll(s, testDeliveries(t, []string{"L7:a", "L7:b"}, answers)) // the answers say it
	for _, k := range []string{"L7:a", "L7:b"} {
		if !errors.Is(answers[k], errBatchResults) {
			t.Errorf("%s answered %v", k, answers[k])
		}
	}
}

// TestRegisterBatchKind checks the registration rules of both ways.
func TestRegisterBatchKind(t *testing.T) {
	r := &applyRecorder{}
	s := testApplierShell(t, r)
	tests := []struct {
		name string
		reg  func() error
		ok   bool
	}{
		{"stream message kind", func() error { return s.RegisterBatchKind(KindStreamMessage, r.batch) }, false},
		{"kind 0", func() error { return s.RegisterBatchKind(0, r.batch) }, false},
		{"nil batch", func() error { return s.RegisterBatchKind(10, nil) }, false},
		{"nil func", func() error { return s.RegisterKind(10, nil) }, false},
		{"kind in Options.BatchKinds", func() error { return s.RegisterKind(batchKind, r.plain) }, false},
		{"kind registered plain", func() error { return s.RegisterBatchKind(plainKind, r.batch) }, false},
		{"new batch kind", func() error { return s.RegisterBatchKind(10, r.batch) }, true},
		{"twice", func() error { return s.RegisterKind(10, r.plain) }, false},
	}
	for _, tc := range tests {
		err := tc.reg()
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrUnknownKind)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if s.kindApply(10) == nil || s.kindApply(batchKind) == nil || s.kindApply(noKind) != nil || s.kindApply(KindStreamMessage) != nil {
		t.Error("kindApply")
	}
}

// TestApplierStopsAfterApplyLater: once an op must be applied later, the
// deliveries after it in the step are not applied either (heal re-applies
// them all in order from the journal); local publishes among them are
// answered as applied later. Before, the next batches went on: an op was
// applied before one it may depend on.
func TestApplierStopsAfterApplyLater(t *testing.T) {
	r := &applyRecorder{}
	s := testApplierShell(t, r)
	answers := map[string]error{}
	ds := testDeliveries(t, []string{"7:a", "L7:b?", "7:c", "8:p", "s:m", "L8:q", "7:d"}, answers)
	if err := applyAll(s, ds); !applyLater(err) {
		t.Fatalf("step: %v, want an apply-later error", err)
	}
	if got := strings.Join(r.calls, " | "); got != "7:a,b?,c" {
		t.Fatalf("calls %q, want only the batch holding the op applied later", got)
	}
	for _, k := range []string{"L7:b?", "L8:q"} {
		if !applyLater(answers[k]) {
			t.Errorf("%s answered %v, want applied later", k, answers[k])
		}
	}
	if s.failure() == nil {
		t.Error("the shell did not fail: heal would not re-apply the step")
	}
}
