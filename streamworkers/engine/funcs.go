package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/valyala/fastjson"
)

// scalar is a function of evaluated arguments.
type scalar struct {
	min, max int // argument count (max -1: any)
	fn       func(en *env, args []value) (value, error)
}

var scalars map[string]scalar

func init() {
	scalars = map[string]scalar{
		"upper":          {1, 1, strFn(strings.ToUpper)},
		"ucase":          {1, 1, strFn(strings.ToUpper)},
		"lower":          {1, 1, strFn(strings.ToLower)},
		"lcase":          {1, 1, strFn(strings.ToLower)},
		"trim":           {1, 1, strFn(strings.TrimSpace)},
		"ltrim":          {1, 1, strFn(func(s string) string { return strings.TrimLeft(s, " \t\r\n") })},
		"rtrim":          {1, 1, strFn(func(s string) string { return strings.TrimRight(s, " \t\r\n") })},
		"length":         {1, 1, fnLength},
		"char_length":    {1, 1, fnLength},
		"concat":         {1, -1, fnConcat},
		"substring":      {2, 3, fnSubstring},
		"substr":         {2, 3, fnSubstring},
		"replace":        {3, 3, fnReplace},
		"abs":            {1, 1, mathFn(math.Abs)},
		"floor":          {1, 1, mathFn(math.Floor)},
		"ceil":           {1, 1, mathFn(math.Ceil)},
		"ceiling":        {1, 1, mathFn(math.Ceil)},
		"sqrt":           {1, 1, mathFn(math.Sqrt)},
		"round":          {1, 2, fnRound},
		"mod":            {2, 2, fnMod},
		"power":          {2, 2, fnPower},
		"pow":            {2, 2, fnPower},
		"coalesce":       {1, -1, fnCoalesce},
		"ifnull":         {2, 2, fnCoalesce},
		"if":             {3, 3, fnIf},
		"json_extract":   {2, 2, fnJSONExtract},
		"now":            {0, 0, func(en *env, _ []value) (value, error) { return num(float64(en.now)), nil }},
		"unix_timestamp": {0, 1, fnUnixTimestamp},
		"date_format":    {2, 2, fnDateFormat},
	}
}

func strFn(f func(string) string) func(*env, []value) (value, error) {
	return func(_ *env, a []value) (value, error) {
		if a[0].isNull() {
			return null, nil
		}
		return str(f(a[0].text())), nil
	}
}

func mathFn(f func(float64) float64) func(*env, []value) (value, error) {
	return func(_ *env, a []value) (value, error) {
		x, ok, err := a[0].number("math function")
		if err != nil || !ok {
			return null, err
		}
		r := f(x)
		if math.IsNaN(r) {
			return null, nil
		}
		return num(r), nil
	}
}

func fnLength(_ *env, a []value) (value, error) {
	if a[0].isNull() {
		return null, nil
	}
	return num(float64(utf8.RuneCountInString(a[0].text()))), nil
}

func fnConcat(_ *env, a []value) (value, error) {
	var sb strings.Builder
	for _, v := range a {
		if v.isNull() {
			return null, nil
		}
		sb.WriteString(v.text())
	}
	return str(sb.String()), nil
}

// fnSubstring is SUBSTRING(s, pos[, len]) on characters, pos from 1 (negative:
// from the end), as in MySQL.
func fnSubstring(_ *env, a []value) (value, error) {
	if a[0].isNull() {
		return null, nil
	}
	p, ok, err := a[1].number("SUBSTRING position")
	if err != nil || !ok {
		return null, err
	}
	r := []rune(a[0].text())
	pos := int(p)
	switch {
	case pos > 0:
		pos--
	case pos < 0:
		pos = len(r) + pos
	default:
		return str(""), nil
	}
	if pos < 0 || pos >= len(r) {
		return str(""), nil
	}
	end := len(r)
	if len(a) == 3 {
		n, ok, err := a[2].number("SUBSTRING length")
		if err != nil || !ok {
			return null, err
		}
		if n < 1 {
			return str(""), nil
		}
		if pos+int(math.Min(n, float64(len(r)))) < end {
			end = pos + int(n)
		}
	}
	return str(string(r[pos:end])), nil
}

func fnReplace(_ *env, a []value) (value, error) {
	for _, v := range a {
		if v.isNull() {
			return null, nil
		}
	}
	if a[1].text() == "" {
		return str(a[0].text()), nil
	}
	return str(strings.ReplaceAll(a[0].text(), a[1].text(), a[2].text())), nil
}

func fnRound(_ *env, a []value) (value, error) {
	x, ok, err := a[0].number("ROUND")
	if err != nil || !ok {
		return null, err
	}
	d := 0.0
	if len(a) == 2 {
		var ok2 bool
		if d, ok2, err = a[1].number("ROUND digits"); err != nil || !ok2 {
			return null, err
		}
	}
	d = math.Max(-20, math.Min(20, math.Trunc(d)))
	p := math.Pow(10, d)
	return num(math.Round(x*p) / p), nil
}

func fnMod(_ *env, a []value) (value, error) {
	x, ok1, err := a[0].number("MOD")
	if err != nil {
		return null, err
	}
	y, ok2, err := a[1].number("MOD")
	if err != nil || !ok1 || !ok2 || y == 0 {
		return null, err
	}
	return num(math.Mod(x, y)), nil
}

func fnPower(_ *env, a []value) (value, error) {
	x, ok1, err := a[0].number("POWER")
	if err != nil {
		return null, err
	}
	y, ok2, err := a[1].number("POWER")
	if err != nil || !ok1 || !ok2 {
		return null, err
	}
	r := math.Pow(x, y)
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return null, nil
	}
	return num(r), nil
}

func fnCoalesce(_ *env, a []value) (value, error) {
	for _, v := range a {
		if !v.isNull() {
			return v, nil
		}
	}
	return null, nil
}

func fnIf(_ *env, a []value) (value, error) {
	t, err := a[0].truth()
	if err != nil {
		return null, fmt.Errorf("IF: %w", err)
	}
	if t {
		return a[1], nil
	}
	return a[2], nil
}

// fnJSONExtract is JSON_EXTRACT(doc, '$.a.b[0]') on an object or array value
// (or a string holding JSON).
func fnJSONExtract(_ *env, a []value) (value, error) {
	if a[0].isNull() || a[1].isNull() {
		return null, nil
	}
	if a[1].K != kStr {
		return null, fmt.Errorf("%w: JSON_EXTRACT path must be a string", ErrType)
	}
	keys, err := jsonPath(a[1].S)
	if err != nil {
		return null, err
	}
	var p fastjson.Parser
	doc, err := p.Parse(a[0].text())
	if err != nil {
		return null, fmt.Errorf("%w: JSON_EXTRACT of text that is not JSON", ErrType)
	}
	return fromJSON(doc.Get(keys...)), nil
}

// jsonPath splits '$.a.b[0]' into a, b, 0.
func jsonPath(p string) ([]string, error) {
	if !strings.HasPrefix(p, "$") {
		return nil, fmt.Errorf("%w: JSON path %q must start with $", ErrType, p)
	}
	var keys []string
	rest := p[1:]
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			i := strings.IndexAny(rest, ".[")
			if i < 0 {
				i = len(rest)
			}
			if i == 0 {
				return nil, fmt.Errorf("%w: bad JSON path %q", ErrType, p)
			}
			keys, rest = append(keys, strings.Trim(rest[:i], `"`)), rest[i:]
		case '[':
			i := strings.IndexByte(rest, ']')
			if i < 0 {
				return nil, fmt.Errorf("%w: bad JSON path %q", ErrType, p)
			}
			idx := rest[1:i]
			if _, err := strconv.Atoi(idx); err != nil {
				return nil, fmt.Errorf("%w: bad JSON path %q", ErrType, p)
			}
			keys, rest = append(keys, idx), rest[i+1:]
		default:
			return nil, fmt.Errorf("%w: bad JSON path %q", ErrType, p)
		}
		if len(keys) > maxPathDepth {
			return nil, fmt.Errorf("%w: JSON path deeper than %d", ErrType, maxPathDepth)
		}
	}
	return keys, nil
}

// millis reads a time: Unix milliseconds, or an RFC 3339 string.
func millis(v value, what string) (int64, bool, error) {
	switch v.K {
	case kNull:
		return 0, false, nil
	case kNum:
		if math.IsNaN(v.N) || math.Abs(v.N) > 1e15 {
			return 0, false, fmt.Errorf("%w: %s %v is not a time in Unix milliseconds", ErrType, what, v.N)
		}
		return int64(v.N), true, nil
	case kStr:
		t, err := time.Parse(time.RFC3339Nano, v.S)
		if err != nil {
			return 0, false, fmt.Errorf("%w: %s %q is neither Unix milliseconds nor RFC 3339", ErrType, what, v.S)
		}
		return t.UnixMilli(), true, nil
	}
	return 0, false, fmt.Errorf("%w: %s is a %s, not a time", ErrType, what, v.K)
}

func fnUnixTimestamp(en *env, a []value) (value, error) {
	ms := en.now
	if len(a) == 1 {
		m, ok, err := millis(a[0], "UNIX_TIMESTAMP")
		if err != nil || !ok {
			return null, err
		}
		ms = m
	}
	return num(math.Floor(float64(ms) / 1000)), nil
}

// fnDateFormat formats a time (UTC) with MySQL's %-specifiers.
func fnDateFormat(_ *env, a []value) (value, error) {
	ms, ok, err := millis(a[0], "DATE_FORMAT")
	if err != nil || !ok || a[1].isNull() {
		return null, err
	}
	t := time.UnixMilli(ms).UTC()
	f := a[1].text()
	var sb strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			sb.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			fmt.Fprintf(&sb, "%04d", t.Year())
		case 'y':
			fmt.Fprintf(&sb, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&sb, "%02d", int(t.Month()))
		case 'c':
			fmt.Fprintf(&sb, "%d", int(t.Month()))
		case 'M':
			sb.WriteString(t.Month().String())
		case 'b':
			sb.WriteString(t.Month().String()[:3])
		case 'd':
			fmt.Fprintf(&sb, "%02d", t.Day())
		case 'e':
			fmt.Fprintf(&sb, "%d", t.Day())
		case 'H':
			fmt.Fprintf(&sb, "%02d", t.Hour())
		case 'i':
			fmt.Fprintf(&sb, "%02d", t.Minute())
		case 's', 'S':
			fmt.Fprintf(&sb, "%02d", t.Second())
		case 'f':
			fmt.Fprintf(&sb, "%06d", t.Nanosecond()/1000)
		case 'W':
			sb.WriteString(t.Weekday().String())
		case 'a':
			sb.WriteString(t.Weekday().String()[:3])
		case 'j':
			fmt.Fprintf(&sb, "%03d", t.YearDay())
		case 'T':
			fmt.Fprintf(&sb, "%02d:%02d:%02d", t.Hour(), t.Minute(), t.Second())
		default:
			sb.WriteByte(f[i])
		}
	}
	return str(sb.String()), nil
}

// call compiles a function call.
func (c *compiler) call(x *ast.FuncCallExpr) (expr, error) {
	name := x.FnName.L
	switch name {
	case "tumble", "hop", "session_window", "tumble_count", "slide_count":
		return nil, c.errAt(x.FnName.O, "%s is a window: use it in GROUP BY", strings.ToUpper(name))
	case "followed_by", "not_followed_by":
		return nil, c.errAt(x.FnName.O, "%s belongs in the ON of a stream join", strings.ToUpper(name))
	case "proctime":
		return nil, c.errAt(x.FnName.O, "PROCTIME() is only a window's time argument")
	case "window_start", "window_end":
		if !c.aggMode || c.q.win.kind == winNone || !c.q.timeKnown() {
			return nil, c.errAt(x.FnName.O, "%s() needs a TUMBLE, HOP or SESSION_WINDOW window", strings.ToUpper(name))
		}
		if len(x.Args) != 0 {
			return nil, c.errAt(x.FnName.O, "%s() takes no arguments", strings.ToUpper(name))
		}
		if name == "window_start" {
			return func(en *env) (value, error) { return num(float64(en.start)), nil }, nil
		}
		return func(en *env) (value, error) { return num(float64(en.end)), nil }, nil
	case "date_add", "date_sub", "adddate", "subdate":
		return c.dateArith(x)
	}
	sc, ok := scalars[name]
	if !ok {
		return nil, c.errAt(x.FnName.O, "unknown function %s", strings.ToUpper(x.FnName.O))
	}
	if len(x.Args) < sc.min || (sc.max >= 0 && len(x.Args) > sc.max) {
		return nil, c.errAt(x.FnName.O, "%s takes %s", strings.ToUpper(name), argCount(sc.min, sc.max))
	}
	args := make([]expr, len(x.Args))
	for i, a := range x.Args {
		var err error
		if args[i], err = c.expr(a); err != nil {
			return nil, err
		}
	}
	fn, upper := sc.fn, strings.ToUpper(name)
	return func(en *env) (value, error) {
		vals := make([]value, len(args))
		for i, a := range args {
			v, err := a(en)
			if err != nil {
				return null, err
			}
			vals[i] = v
		}
		v, err := fn(en, vals)
		if err != nil {
			return null, fmt.Errorf("%s: %w", upper, err)
		}
		return v, nil
	}, nil
}

func argCount(min, max int) string {
	switch {
	case max < 0:
		return fmt.Sprintf("at least %d arguments", min)
	case min == max && min == 1:
		return "1 argument"
	case min == max:
		return fmt.Sprintf("%d arguments", min)
	}
	return fmt.Sprintf("%d to %d arguments", min, max)
}

// dateArith compiles DATE_ADD/DATE_SUB(t, INTERVAL n unit) and t +/- INTERVAL
// n unit: the result is Unix milliseconds.
func (c *compiler) dateArith(x *ast.FuncCallExpr) (expr, error) {
	if len(x.Args) != 3 {
		return nil, c.errAt(x.FnName.O, "%s takes (time, INTERVAL n unit)", strings.ToUpper(x.FnName.O))
	}
	t, err := c.expr(x.Args[0])
	if err != nil {
		return nil, err
	}
	ms, err := c.interval(x.Args[1], x.Args[2])
	if err != nil {
		return nil, err
	}
	if x.FnName.L == "date_sub" || x.FnName.L == "subdate" {
		ms = -ms
	}
	return func(en *env) (value, error) {
		v, err := t(en)
		if err != nil {
			return null, err
		}
		m, ok, err := millis(v, "INTERVAL arithmetic")
		if err != nil || !ok {
			return null, err
		}
		return num(float64(m + ms)), nil
	}, nil
}

// cast compiles CAST(x AS SIGNED|UNSIGNED|DOUBLE|DECIMAL|CHAR).
func (c *compiler) cast(x *ast.FuncCastExpr) (expr, error) {
	e, err := c.expr(x.Expr)
	if err != nil {
		return nil, err
	}
	switch x.Tp.GetType() {
	case mysql.TypeLonglong:
		return castNumber(e, true), nil
	case mysql.TypeDouble, mysql.TypeFloat, mysql.TypeNewDecimal:
		return castNumber(e, false), nil
	case mysql.TypeVarString, mysql.TypeString, mysql.TypeVarchar:
		return func(en *env) (value, error) {
			v, err := e(en)
			if err != nil || v.isNull() {
				return null, err
			}
			return str(v.text()), nil
		}, nil
	}
	return nil, c.errAt("cast", "CAST to %s is not supported (use SIGNED, UNSIGNED, DOUBLE, DECIMAL or CHAR)", strings.Fields(x.Tp.String() + " ?")[0])
}

func castNumber(e expr, integer bool) expr {
	return func(en *env) (value, error) {
		v, err := e(en)
		if err != nil {
			return null, err
		}
		var f float64
		switch v.K {
		case kNull:
			return null, nil
		case kNum:
			f = v.N
		case kBool:
			if v.B {
				f = 1
			}
		case kStr:
			f, err = strconv.ParseFloat(strings.TrimSpace(v.S), 64)
			if err != nil {
				return null, fmt.Errorf("%w: CAST of %q to a number", ErrType, v.S)
			}
		default:
			return null, fmt.Errorf("%w: CAST of an %s to a number", ErrType, v.K)
		}
		if integer {
			f = math.Trunc(f)
		}
		return num(f), nil
	}
}

// aggregate compiles an aggregate of the SELECT list or HAVING to a slot of
// the group; the same aggregate twice shares its slot.
func (c *compiler) aggregate(a *ast.AggregateFuncExpr) (expr, error) {
	fn, ok := aggNames[lower(a.F)]
	if !ok {
		return nil, c.errAt(a.F, "unknown aggregate %s", strings.ToUpper(a.F))
	}
	if a.Distinct || a.Order != nil || len(a.Args) != 1 {
		return nil, c.errAt(a.F, "%s takes one argument, without DISTINCT", strings.ToUpper(a.F))
	}
	txt := restore(a)
	for i, t := range c.aggTexts {
		if t == txt {
			return func(en *env) (value, error) { return en.aggs[i], nil }, nil
		}
	}
	spec := aggSpec{fn: fn}
	star := false
	if fn == aggCount {
		if lit, ok := a.Args[0].(interface{ Kind() byte }); ok && lit.Kind() != 0 {
			star = true // COUNT(*), COUNT(1)
		}
	}
	if !star {
		c.aggMode = false
		e, err := c.expr(a.Args[0])
		c.aggMode = true
		if err != nil {
			return nil, err
		}
		spec.arg = e
	}
	i := len(c.q.aggs)
	c.q.aggs = append(c.q.aggs, spec)
	c.aggTexts = append(c.aggTexts, txt)
	return func(en *env) (value, error) { return en.aggs[i], nil }, nil
}
