package aql

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The grammar below is participle's: each struct is a rule, its tags the
// tokens and sub-rules it matches. parse.go turns the tree into the
// package's own nodes (compile.go).

// keywords are AQL's reserved words (case-insensitive). Words that are
// keywords only in one place (COUNT in WITH COUNT INTO, KEEP) stay
// identifiers.
const keywords = `parser:"FOR|RETURN|FILTER|SEARCH|SORT|LIMIT|LET|COLLECT|WINDOW|INSERT|UPDATE|REPLACE|REMOVE|UPSERT|WITH|AGGREGATE|INTO|IN|NOT|AND|OR|LIKE|ASC|DESC|DISTINCT|TRUE|FALSE|NULL|OPTIONS|PRUNE|GRAPH|OUTBOUND|INBOUND|ANY|ALL|NONE|SHORTEST_PATH|K_SHORTEST_PATHS|K_PATHS|ALL_SHORTEST_PATHS"`

var aqlLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Comment", Pattern: `//[^\n]*|/\*([^*]|\*+[^*/])*\*+/`},
	{Name: "Whitespace", Pattern: `[ \t\r\n]+`},
	{Name: "String", Pattern: `"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'`},
	{Name: "Number", Pattern: `0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?`},
	{Name: "BindColl", Pattern: `@@[A-Za-z0-9_]+`},
	{Name: "Bind", Pattern: `@[A-Za-z0-9_]+`},
	{Name: "Keyword", Pattern: `(?i)\b(?:` + keywords + `)\b`},
	{Name: "Ident", Pattern: "[A-Za-z_$][A-Za-z0-9_]*|`(?:[^`\\\\]|\\\\.)*`|´(?:[^´\\\\]|\\\\.)*´"},
	{Name: "Op", Pattern: `==|!=|<=|>=|=~|!~|&&|\|\||\.\.|::|[-+*/%<>=!?:.,()\[\]{}]`},
})

var aqlParser = participle.MustBuild[gQuery](
	participle.Lexer(aqlLexer),
	participle.Elide("Comment", "Whitespace"),
	participle.CaseInsensitive("Keyword", "Ident"),
	participle.UseLookahead(2),
)

type gQuery struct {
	Pos   lexer.Position
	With  []string `parser:"( \"WITH\" @(Ident | BindColl) ( \",\" @(Ident | BindColl) )* )?"`
	Stmts []*gStmt `parser:"@@+"`
}

type gStmt struct {
	Pos     lexer.Position
	For     *gFor     `parser:"  @@"`
	Let     *gLet     `parser:"| @@"`
	Filter  *gExpr    `parser:"| \"FILTER\" @@"`
	Sort    *gSort    `parser:"| @@"`
	Limit   *gLimit   `parser:"| @@"`
	Collect *gCollect `parser:"| @@"`
	Return  *gReturn  `parser:"| @@"`
	Insert  *gInsert  `parser:"| @@"`
	Update  *gUpdate  `parser:"| @@"`
	Replace *gReplace `parser:"| @@"`
	Remove  *gRemove  `parser:"| @@"`
	Upsert  *gUpsert  `parser:"| @@"`
}

type gFor struct {
	Pos  lexer.Position
	Vars []string `parser:"\"FOR\" @Ident ( \",\" @Ident )*"`
	In   *gExpr   `parser:"\"IN\" @@"`
	Opts *gExpr   `parser:"( \"OPTIONS\" @@ )?"`
}

type gLet struct {
	Name  string `parser:"\"LET\" @Ident \"=\""`
	Value *gExpr `parser:"@@"`
}

type gSort struct {
	Terms []*gSortTerm `parser:"\"SORT\" @@ ( \",\" @@ )*"`
}

type gSortTerm struct {
	Expr *gExpr `parser:"@@"`
	Dir  string `parser:"@( \"ASC\" | \"DESC\" )?"`
}

type gLimit struct {
	Pos   lexer.Position
	First *gExpr `parser:"\"LIMIT\" @@"`
	Count *gExpr `parser:"( \",\" @@ )?"`
}

type gCollect struct {
	Pos       lexer.Position
	Groups    []*gAssign `parser:"\"COLLECT\" ( @@ ( \",\" @@ )* )?"`
	Aggregate []*gAssign `parser:"( \"AGGREGATE\" @@ ( \",\" @@ )* )?"`
	Into      *gInto     `parser:"( @@ )?"`
	CountInto string     `parser:"( \"WITH\" \"COUNT\" \"INTO\" @Ident )?"`
	Opts      *gExpr     `parser:"( \"OPTIONS\" @@ )?"`
}

type gInto struct {
	Name string   `parser:"\"INTO\" @Ident"`
	Expr *gExpr   `parser:"( \"=\" @@ )?"`
	Keep []string `parser:"( \"KEEP\" @Ident ( \",\" @Ident )* )?"`
}

type gAssign struct {
	Name  string `parser:"@Ident \"=\""`
	Value *gExpr `parser:"@@"`
}

type gReturn struct {
	Distinct bool   `parser:"\"RETURN\" @\"DISTINCT\"?"`
	Value    *gExpr `parser:"@@"`
}

type gColl struct {
	Pos  lexer.Position
	Name string `parser:"@(Ident | BindColl)"`
}

type gInsert struct {
	Pos  lexer.Position
	Doc  *gExprNI `parser:"\"INSERT\" @@"`
	Coll *gColl   `parser:"( \"INTO\" | \"IN\" ) @@"`
	Opts *gExpr   `parser:"( \"OPTIONS\" @@ )?"`
}

type gUpdate struct {
	Pos  lexer.Position
	Doc  *gExprNI `parser:"\"UPDATE\" @@"`
	With *gExprNI `parser:"( \"WITH\" @@ )?"`
	Coll *gColl   `parser:"( \"IN\" | \"INTO\" ) @@"`
	Opts *gExpr   `parser:"( \"OPTIONS\" @@ )?"`
}

type gReplace struct {
	Pos  lexer.Position
	Doc  *gExprNI `parser:"\"REPLACE\" @@"`
	With *gExprNI `parser:"( \"WITH\" @@ )?"`
	Coll *gColl   `parser:"( \"IN\" | \"INTO\" ) @@"`
	Opts *gExpr   `parser:"( \"OPTIONS\" @@ )?"`
}

type gRemove struct {
	Pos  lexer.Position
	Key  *gExprNI `parser:"\"REMOVE\" @@"`
	Coll *gColl   `parser:"( \"IN\" | \"INTO\" ) @@"`
	Opts *gExpr   `parser:"( \"OPTIONS\" @@ )?"`
}

type gUpsert struct {
	Pos    lexer.Position
	Search *gExpr   `parser:"\"UPSERT\" @@"`
	Insert *gExpr   `parser:"\"INSERT\" @@"`
	Kind   string   `parser:"@( \"UPDATE\" | \"REPLACE\" )"`
	Update *gExprNI `parser:"@@"`
	Coll   *gColl   `parser:"( \"IN\" | \"INTO\" ) @@"`
	Opts   *gExpr   `parser:"( \"OPTIONS\" @@ )?"`
}

// Expressions, lowest precedence first.

type gExpr struct {
	Pos  lexer.Position
	Cond *gOr      `parser:"@@"`
	Then *gTernary `parser:"( \"?\" @@ )?"`
}

type gTernary struct {
	Then *gExpr `parser:"@@? \":\""`
	Else *gExpr `parser:"@@"`
}

type gOr struct {
	Left  *gAnd   `parser:"@@"`
	Right []*gAnd `parser:"( ( \"||\" | \"OR\" ) @@ )*"`
}

type gAnd struct {
	Left  *gEq   `parser:"@@"`
	Right []*gEq `parser:"( ( \"&&\" | \"AND\" ) @@ )*"`
}

type gEq struct {
	Left  *gIn    `parser:"@@"`
	Right []*gEqR `parser:"@@*"`
}

type gEqR struct {
	Pos   lexer.Position
	Not   bool   `parser:"( @\"NOT\" \"LIKE\""`
	Op    string `parser:"| @( \"==\" | \"!=\" | \"LIKE\" | \"=~\" | \"!~\" ) )"`
	Right *gIn   `parser:"@@"`
}

type gIn struct {
	Left  *gRel   `parser:"@@"`
	Right []*gInR `parser:"@@*"`
}

type gInR struct {
	Not   bool  `parser:"( @\"NOT\" )? \"IN\""`
	Right *gRel `parser:"@@"`
}

type gRel struct {
	Left  *gRange  `parser:"@@"`
	Right []*gRelR `parser:"@@*"`
}

type gRelR struct {
	Op    string  `parser:"@( \"<=\" | \">=\" | \"<\" | \">\" )"`
	Right *gRange `parser:"@@"`
}

type gRange struct {
	Left *gAdd `parser:"@@"`
	To   *gAdd `parser:"( \"..\" @@ )?"`
}

type gAdd struct {
	Left  *gMul    `parser:"@@"`
	Right []*gMulR `parser:"@@*"`
}

type gMulR struct {
	Op    string `parser:"@( \"+\" | \"-\" )"`
	Right *gMul  `parser:"@@"`
}

type gMul struct {
	Left  *gUnary    `parser:"@@"`
	Right []*gUnaryR `parser:"@@*"`
}

type gUnaryR struct {
	Pos   lexer.Position
	Op    string  `parser:"@( \"*\" | \"/\" | \"%\" )"`
	Right *gUnary `parser:"@@"`
}

type gUnary struct {
	Pos     lexer.Position
	Op      string    `parser:"(   @( \"!\" | \"NOT\" | \"-\" | \"+\" )"`
	Operand *gUnary   `parser:"    @@"`
	Postfix *gPostfix `parser:"  | @@ )"`
}

type gPostfix struct {
	Primary *gPrimary  `parser:"@@"`
	Suffix  []*gSuffix `parser:"@@*"`
}

type gSuffix struct {
	Pos    lexer.Position
	Attr   *string `parser:"  \".\" @(Ident | Keyword)"`
	Bind   *string `parser:"| \".\" @Bind"`
	Expand bool    `parser:"| \"[\" @\"*\" \"]\""`
	Index  *gExpr  `parser:"| \"[\" @@ \"]\""`
}

type gPrimary struct {
	Pos      lexer.Position
	Call     *gCall   `parser:"  @@"`
	Number   *string  `parser:"| @Number"`
	String   *string  `parser:"| @String"`
	Bind     *string  `parser:"| @Bind"`
	BindColl *string  `parser:"| @BindColl"`
	True     bool     `parser:"| @\"TRUE\""`
	False    bool     `parser:"| @\"FALSE\""`
	Null     bool     `parser:"| @\"NULL\""`
	Array    *gArray  `parser:"| @@"`
	Object   *gObject `parser:"| @@"`
	Sub      *gQuery  `parser:"| \"(\" @@ \")\""`
	Paren    *gExpr   `parser:"| \"(\" @@ \")\""`
	Ident    *string  `parser:"| @Ident"`
}

type gCall struct {
	Pos  lexer.Position
	Name string   `parser:"@(Ident | \"LIKE\") ( \"::\" @Ident )* \"(\""`
	Args []*gExpr `parser:"( @@ ( \",\" @@ )* )? \")\""`
}

type gArray struct {
	Items []*gExpr `parser:"\"[\" ( @@ ( \",\" @@ )* \",\"? )? \"]\""`
}

type gObject struct {
	Members []*gMember `parser:"\"{\" ( @@ ( \",\" @@ )* \",\"? )? \"}\""`
}

type gMember struct {
	Pos      lexer.Position
	Computed *gExpr  `parser:"(   \"[\" @@ \"]\""`
	Bind     *string `parser:"  | @Bind"`
	Str      *string `parser:"  | @String"`
	Name     *string `parser:"  | @(Ident | Keyword) )"`
	Value    *gExpr  `parser:"( \":\" @@ )?"`
}

// Expressions of modification statements, before IN|INTO collection: no
// top-level IN operator (parenthesize one) and no ternary.

type gExprNI struct {
	Pos   lexer.Position
	Left  *gAndNI   `parser:"@@"`
	Right []*gAndNI `parser:"( ( \"||\" | \"OR\" ) @@ )*"`
}

type gAndNI struct {
	Left  *gEqNI   `parser:"@@"`
	Right []*gEqNI `parser:"( ( \"&&\" | \"AND\" ) @@ )*"`
}

type gEqNI struct {
	Left  *gRel     `parser:"@@"`
	Right []*gEqRNI `parser:"@@*"`
}

type gEqRNI struct {
	Pos   lexer.Position
	Not   bool   `parser:"( @\"NOT\" \"LIKE\""`
	Op    string `parser:"| @( \"==\" | \"!=\" | \"LIKE\" | \"=~\" | \"!~\" ) )"`
	Right *gRel  `parser:"@@"`
}
