package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/causeway/causeway/console"
)

// jsTables are table tests of the console's pure JavaScript (grants,
// the query language rule, link states, the metrics reader), run in
// Chromium against the embedded modules. Each returns the failures it
// found as strings.
const jsTables = `(async () => {
  const api = await import('/console/js/api.js');
  const query = await import('/console/js/query.js');
  const fabric = await import('/console/js/fabric.js');
  const prom = await import('/console/js/prom.js');
  const ui = await import('/console/js/ui.js');
  const fails = [];
  const eq = (what, got, want) => {
    if (JSON.stringify(got) !== JSON.stringify(want)) fails.push(what + ': got ' + JSON.stringify(got) + ', want ' + JSON.stringify(want));
  };

  // Grants, as broker/auth reads them: admin covers write covers read.
  eq('parse tenant', api.parseGrant('admin:*'), { action: 3, kind: 'tenant' });
  eq('parse stream', api.parseGrant('read:stream/f/s'), { action: 1, kind: 'stream', fabric: 'f', name: 's' });
  for (const bad of ['read', 'own:*', 'read:stream/f', 'read:queue/f/s', 'read:fabric/a/b']) eq('parse ' + bad, api.parseGrant(bad), null);
  const p = (perms, su) => new api.Principal({ perms, su, tenant: 't' });
  const cases = [
    [p([], true), ['admin', 'tenant'], true],
    [p(['admin:*']), ['admin', 'tenant'], true],
    [p(['admin:*']), ['write', 'stream', 'f', 's'], true],
    [p(['read:stream/f/s']), ['read', 'stream', 'f', 's'], true],
    [p(['read:stream/f/s']), ['write', 'stream', 'f', 's'], false],
    [p(['read:stream/f/s']), ['read', 'stream', 'f', 'x'], false],
    [p(['read:stream/f/s']), ['read', 'collection', 'f', 's'], false],
    [p(['write:stream/*/s']), ['read', 'stream', 'g', 's'], true],
    [p(['admin:fabric/f']), ['admin', 'collection', 'f', 'c'], true],
    [p(['admin:fabric/f']), ['admin', 'tenant'], false],
    [p(['admin:fabric/f']), ['read', 'stream', 'g', 's'], false],
    [p(['admin:fabric/*']), ['admin', 'fabric', 'g'], true],
    [p(['write:collection/f/*']), ['write', 'collection', 'f', 'c'], true],
    [p(['write:collection/f/*']), ['admin', 'collection', 'f', 'c'], false],
    [p(['bogus', 'read:*']), ['read', 'collection', 'f', 'c'], true],
  ];
  cases.forEach(([pr, args, want], i) => eq('can ' + i + ' ' + args.join(' '), pr.can(...args), want));
  eq('canSome stream grant', p(['admin:stream/f/s']).canSome('admin', 'stream', 'f'), true);
  eq('canSome other fabric', p(['admin:stream/g/s']).canSome('admin', 'stream', 'f'), false);
  eq('canSome read only', p(['read:fabric/f']).canSome('admin', 'stream', 'f'), false);
  eq('tenantAdmin', p(['admin:*']).tenantAdmin && !p(['admin:fabric/f']).tenantAdmin, true);
  const tok = 'x.' + btoa(JSON.stringify({ tenant: 'acme', perms: ['read:*'], su: false, key: 'k?' })).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_') + '.y';
  eq('claims', api.claims(tok), { tenant: 'acme', perms: ['read:*'], su: false, key: 'k?' });
  eq('stream resource', api.streamResource('_changes.users'), ['collection', 'users']);
  eq('stream resource plain', api.streamResource('orders'), ['stream', 'orders']);

  // The node's rule: an AQL statement keyword first is C8QL.
  for (const [q, want] of [['SELECT * FROM u', 'SQL'], ['for u in users return u', 'C8QL'], ['  -- c\n  FOR x IN 1..2 RETURN x', 'C8QL'],
    ['/* a */ RETURN 1', 'C8QL'], ['// c\nLET a = 1 RETURN a', 'C8QL'], ['select 1 -- FOR', 'SQL'], ['', 'SQL'], ['FORMAT', 'SQL'], ['Upsert {} INSERT {} UPDATE {} IN c', 'C8QL']]) {
    eq('language ' + JSON.stringify(q), query.language(q), want);
  }

  // Link states.
  const up = { link: { up: true, connected: true } }, cut = { link: { down: true } }, lost = { link: { up: false, connected: false } };
  eq('link up', fabric.linkState(up, [up, lost]), 'up');
  eq('link cut', fabric.linkState(cut, [cut, up]), 'cut');
  eq('link relayed', fabric.linkState(lost, [lost, up]), 'relayed');
  eq('link connecting', fabric.linkState(lost, [lost, cut]), 'connecting');

  // Metrics: the text format, sums, histogram quantiles over an interval.
  const text = '# HELP x\n# TYPE h histogram\nm_total{a="1"} 3\nm_total{a="2",b="x\\"y"} 4\nbad line\n' +
    'h_bucket{le="0.001"} 10\nh_bucket{le="0.01"} 90\nh_bucket{le="0.1"} 100\nh_bucket{le="+Inf"} 100\n';
  const s = prom.parse(text);
  eq('parse count', s.length, 6);
  eq('label with quote', s[1].labels, { a: '2', b: 'x\\"y' });
  eq('sum', prom.sum(s, 'm_total'), 7);
  const b = prom.buckets(s, 'h');
  eq('buckets', b.map(([le, c]) => [le === Infinity ? 'inf' : le, c]), [[0.001, 10], [0.01, 90], [0.1, 100], ['inf', 100]]);
  eq('p50 interpolated', Math.round(prom.quantile(0.5, b, []) * 1e6), 5500);
  eq('p99 in the last bucket', Math.round(prom.quantile(0.99, b, []) * 1e4), 910);
  eq('no observations', prom.quantile(0.99, b, b), undefined);

  // Input a user typed.
  try { ui.parseJSON('{', 'Bind parameters'); fails.push('bad JSON accepted'); } catch (e) { eq('json error names the field', e.message.startsWith('Bind parameters is not valid JSON'), true); }
  eq('empty JSON', ui.parseJSON('  ', 'x'), undefined);
  eq('bytes', [ui.fmtBytes(0), ui.fmtBytes(1536), ui.fmtBytes(5 * 1024 * 1024)], ['0 B', '1.5 KiB', '5.0 MiB']);
  return fails;
})()`

func TestJavaScriptCores(t *testing.T) {
	exe := chromium(t)
	srv := httptest.NewServer(console.Wrap(console.New(), http.NotFoundHandler()))
	defer srv.Close()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/")); err != nil {
		t.Fatal(err)
	}
	fails, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](jsTables, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if len(fails) > 0 {
		t.Fatalf("%d JavaScript table cases failed:\n%s", len(fails), strings.Join(fails, "\n"))
	}
}
