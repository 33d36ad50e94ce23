package dci

import (
	"encoding/json"

	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// The decoder reads a message level by level (envelope, header, message, items, criteria,
// query), keeping each member raw until its level is read. With encoding/json every level
// would scan its bytes again, twice (validate, then decode), and copy them: the query of a
// search would be scanned a dozen times. Instead the body is validated once, by
// SplitEnvelope, and the levels below are split by package rawjson, which trusts that
// what it is given is a part of a valid document. Exported functions that take raw JSON
// from elsewhere validate it first (json.Valid).

func fields(b json.RawMessage) map[string]json.RawMessage { return rawjson.Fields(b) }

func elements(b json.RawMessage) ([]json.RawMessage, bool) { return rawjson.Elements(b) }

func unquote(q []byte) (string, bool) { return rawjson.Unquote(q) }

func isNull(b json.RawMessage) bool { return rawjson.IsNull(b) }
