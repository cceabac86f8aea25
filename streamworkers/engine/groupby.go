package engine

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// groupBy reads GROUP BY: expressions, and at most one window function.
func (c *compiler) groupBy(g *ast.GroupByClause) error {
	if g == nil {
		return nil
	}
	if g.Rollup {
		return c.errf("WITH ROLLUP is not supported")
	}
	if len(g.Items) > maxFields {
		return c.errf("GROUP BY with more than %d terms", maxFields)
	}
	for _, it := range g.Items {
		if f, ok := unparen(it.Expr).(*ast.FuncCallExpr); ok {
			switch f.FnName.L {
			case "tumble", "hop", "session_window", "tumble_count", "slide_count":
				if c.q.win.kind != winNone {
					return c.errAt(f.FnName.O, "GROUP BY takes one window")
				}
				if err := c.window(f); err != nil {
					return err
				}
				continue
			}
		}
		e, err := c.expr(it.Expr)
		if err != nil {
			return err
		}
		c.q.groupExprs = append(c.q.groupExprs, e)
		c.groupTexts = append(c.groupTexts, c.groupText(it.Expr))
	}
	return nil
}

// groupText identifies a GROUP BY expression: a column by its resolved
// source and path (so o.user and user match on one stream), anything else
// by its text.
func (c *compiler) groupText(e ast.ExprNode) string {
	if cn, ok := unparen(e).(*ast.ColumnNameExpr); ok {
		src, path := c.resolve(cn.Name)
		return fmt.Sprintf("column %d %s", src, strings.Join(path, "."))
	}
	return restore(e)
}

// window reads TUMBLE(t, 'size'), HOP(t, 'slide', 'size'), SESSION_WINDOW(t,
// 'gap'), TUMBLE_COUNT(n) or SLIDE_COUNT(n). t is a field (event time), _time
// (publish time) or PROCTIME() (processing time).
func (c *compiler) window(f *ast.FuncCallExpr) error {
	name := strings.ToUpper(f.FnName.L)
	w := &c.q.win
	switch f.FnName.L {
	case "tumble_count", "slide_count":
		max := maxCountWindow
		if f.FnName.L == "slide_count" {
			max = maxSlideCount
		}
		n, ok := 0.0, false
		if len(f.Args) == 1 {
			n, ok = numberLiteral(f.Args[0])
		}
		if !ok || n < 1 || n > float64(max) || n != float64(int(n)) {
			return c.errAt(f.FnName.O, "%s takes a whole number of events from 1 to %d", name, max)
		}
		w.count = int(n)
		if f.FnName.L == "tumble_count" {
			w.kind = winTumbleCount
		} else {
			w.kind = winSlideCount
		}
		return nil
	}
	want := map[string]int{"tumble": 2, "hop": 3, "session_window": 2}[f.FnName.L]
	if len(f.Args) != want {
		usage := map[string]string{"tumble": "TUMBLE(time, 'size')", "hop": "HOP(time, 'slide', 'size')", "session_window": "SESSION_WINDOW(time, 'gap')"}[f.FnName.L]
		return c.errAt(f.FnName.O, "%s takes %s", name, usage)
	}
	if pf, ok := unparen(f.Args[0]).(*ast.FuncCallExpr); ok && pf.FnName.L == "proctime" && len(pf.Args) == 0 {
		w.proc = true
	} else {
		cn, ok := unparen(f.Args[0]).(*ast.ColumnNameExpr)
		if !ok {
			return c.errAt(f.FnName.O, "%s's time is a field, _time or PROCTIME()", name)
		}
		e, err := c.expr(cn)
		if err != nil {
			return err
		}
		if _, path := c.resolve(cn.Name); c.eventTime != "" && c.q.mode != modeJoin && strings.Join(path, ".") != c.eventTime {
			return c.errAt(f.FnName.O, "%s's time %s is not the event time (@event_time = '%s')", name, strings.Join(path, "."), c.eventTime)
		}
		w.time = e
		// On one stream, the window's field is the event time unless
		// @event_time says otherwise.
		if c.q.mode == modeSingle && c.eventTime == "" {
			c.q.timeOf[0] = e
		}
	}
	var err error
	switch f.FnName.L {
	case "tumble":
		w.kind = winTumble
		w.size, err = c.duration(f.Args[1], name)
		w.step = w.size
	case "hop":
		w.kind = winHop
		if w.step, err = c.duration(f.Args[1], name+" slide"); err != nil {
			return err
		}
		if w.size, err = c.duration(f.Args[2], name+" size"); err != nil {
			return err
		}
		if w.size < w.step || w.size%w.step != 0 || w.size/w.step > maxHopWindows {
			return c.errAt(f.FnName.O, "HOP's size must be a multiple of its slide, at most %d slides", maxHopWindows)
		}
	case "session_window":
		w.kind = winSession
		w.gap, err = c.duration(f.Args[1], name+" gap")
	}
	return err
}
