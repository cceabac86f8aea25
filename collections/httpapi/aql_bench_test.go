package httpapi_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// aqlBenchDocs sizes BenchmarkAQLvsSQL: go test -bench AQLvsSQL -aqldocs 1000000.
var aqlBenchDocs = flag.Int("aqldocs", 100_000, "documents in BenchmarkAQLvsSQL's collection")

// BenchmarkAQLvsSQL asks one selective question (0.1% of the documents)
// in SQL and in AQL over -aqldocs documents, with a full scan and then
// with an index on the filtered path.
func BenchmarkAQLvsSQL(b *testing.B) {
	n := startNode(b)
	count := *aqlBenchDocs
	start := time.Now()
	loadBench(b, n, count)
	b.Logf("loaded %d documents in %s", count, time.Since(start).Round(time.Millisecond))
	lo, want := count/2, max(count/1000, 1)
	bind := map[string]any{"lo": lo, "hi": lo + want}
	bodies := map[string][]byte{}
	bodies["sql"], _ = json.Marshal(map[string]any{"query": "SELECT _key, score FROM bench WHERE score >= @lo AND score < @hi ORDER BY score", "bindVars": bind})
	bodies["aql"], _ = json.Marshal(map[string]any{"query": "FOR d IN bench FILTER d.score >= @lo && d.score < @hi SORT d.score RETURN {_key: d._key, score: d.score}", "bindVars": bind})
	run := func(b *testing.B, lang string) {
		r := n.do("POST", sys+"cursor", bodies[lang]).must(b, http.StatusCreated)
		if got := len(r.body["result"].([]any)); got != want {
			b.Fatalf("%s: %d rows, want %d", lang, got, want)
		}
		var lat latencies
		b.ResetTimer()
		for b.Loop() {
			lat.add(send(b, "POST", n.url+sys+"cursor", bodies[lang], http.StatusCreated))
		}
		b.StopTimer()
		lat.report(b)
	}
	for _, lang := range []string{"sql", "aql"} {
		b.Run(fmt.Sprintf("docs=%d/full-scan/%s", count, lang), func(b *testing.B) { run(b, lang) })
	}
	n.do("POST", sys+"index?collection=bench", map[string]any{"type": "persistent", "fields": []any{"score"}}).must(b, http.StatusCreated)
	plan := n.do("POST", sys+"explain", bodies["aql"]).must(b, http.StatusOK)
	if !json.Valid(plan.raw) || !strings.Contains(string(plan.raw), `"IndexNode"`) || !strings.Contains(string(plan.raw), `"index-range"`) {
		b.Fatalf("AQL does not use the index: %s", plan.raw)
	}
	for _, lang := range []string{"sql", "aql"} {
		b.Run(fmt.Sprintf("docs=%d/indexed/%s", count, lang), func(b *testing.B) { run(b, lang) })
	}
}
