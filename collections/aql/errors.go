package aql

import (
	"errors"
	"fmt"

	"github.com/causeway/causeway/collections/query"
)

// ArangoDB's error numbers for AQL (lib/Basics/errors.dat).
const (
	NumBadParameter       = 10
	NumNotImplemented     = 9
	NumResourceLimit      = 32
	NumConflict           = 1200
	NumDocumentNotFound   = 1202
	NumDocumentHandleBad  = 1205
	NumCollectionNotFound = 1203
	NumUniqueViolated     = 1210
	NumKeyBad             = 1221
	NumDocumentTypeBad    = 1227
	NumQueryParse         = 1501
	NumQueryEmpty         = 1502
	NumNumberOutOfRange   = 1504
	NumVariableRedeclared = 1511
	NumVariableUnknown    = 1512
	NumFunctionUnknown    = 1540
	NumFunctionArgCount   = 1541
	NumFunctionArgType    = 1542
	NumInvalidRegex       = 1543
	NumBindMissing        = 1551
	NumBindUndeclared     = 1552
	NumBindType           = 1553
	NumDivisionByZero     = 1562
	NumArrayExpected      = 1563
	NumAccessAfterModify  = 1579
)

// Error is an AQL error with ArangoDB's error number and HTTP status.
type Error struct {
	Num    int
	Status int
	Msg    string
}

func (e *Error) Error() string { return "aql: " + e.Msg }

// Is makes every *Error match ErrAQL and, for front ends that only know
// the SQL package's errors, the closest of them: the bind parameter
// errors, the resource limit, and query.ErrSyntax for any other bad query
// (query.ErrUnsupported for what is not supported yet).
func (e *Error) Is(target error) bool {
	if target == ErrAQL {
		return true
	}
	switch e.Num {
	case NumBindMissing:
		return target == query.ErrBindMissing
	case NumBindUndeclared:
		return target == query.ErrBindUnused
	case NumBindType:
		return target == query.ErrBindType
	case NumResourceLimit:
		return target == query.ErrTooManyRows
	}
	switch e.Status {
	case 400:
		return target == query.ErrSyntax
	case 501:
		return target == query.ErrUnsupported
	}
	return false
}

// ErrAQL matches every error of this package (errors.Is).
var ErrAQL = errors.New("aql: error")

func asError(err error, target **Error) bool { return errors.As(err, target) }

func errorf(num, status int, format string, args ...any) *Error {
	return &Error{Num: num, Status: status, Msg: fmt.Sprintf(format, args...)}
}

// badQuery is a 400 error.
func badQuery(num int, format string, args ...any) *Error {
	return errorf(num, 400, format, args...)
}

// Codes returns the HTTP status and ArangoDB error number of an error of
// this package (ok false for any other error).
func Codes(err error) (status, num int, ok bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Status, e.Num, true
	}
	return 0, 0, false
}

// Warning is a runtime warning a query answers with (ArangoDB's
// extra.warnings): the query goes on, the value is null.
type Warning struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// maxWarnings bounds the warnings one query keeps.
const maxWarnings = 10
