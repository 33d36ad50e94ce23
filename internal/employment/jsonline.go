package employment

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// decodeFast reads a JSON wage line without reflection: the line is validated once
// (rawjson.Valid) and its members split and converted in place. It handles the lines a
// payroll application writes, a valid object whose members are the schema's, each of
// its type or null, and reports false for anything else, which decodeJSONLine then reads
// with encoding/json for the verdict and its wording. When it reports true, w is what
// encoding/json decodes (FuzzDecodeFast holds it to that).
func decodeFast(line []byte, w *WageLine) bool {
	ok, _ := decodeFastSeen(line, w)
	return ok
}

// allMembers is the mask of a line that names every member of Columns.
const allMembers = 1<<9 - 1

// decodeFastSeen is decodeFast, with the mask of the members the line names (bit i:
// Columns[i]).
func decodeFastSeen(line []byte, w *WageLine) (bool, uint16) {
	t := bytes.TrimRight(line[rawjson.SkipSpace(line, 0):], " \t\r\n") // JSON's white space only
	if len(t) == 0 || t[0] != '{' || !rawjson.Valid(t) {
		return false, 0
	}
	ok := true
	var seen uint16
	rawjson.EachMember(t, func(name string, v []byte) bool {
		if ok = w.member(name, v); ok {
			seen |= 1 << memberIndex(name)
		}
		return ok
	})
	return ok, seen
}

// missing names the first member of Columns the mask lacks, "" when none.
func missing(seen uint16) string {
	for i, c := range Columns {
		if seen&(1<<i) == 0 {
			return c
		}
	}
	return ""
}

// membersOf is the mask of the members a JSON object names (the slow path's).
func membersOf(line []byte) uint16 {
	var seen uint16
	var m map[string]json.RawMessage
	if json.Unmarshal(line, &m) != nil {
		return 0
	}
	for name := range m {
		if i := memberIndex(name); i >= 0 {
			seen |= 1 << i
		}
	}
	return seen
}

// member sets one member of a JSON wage line; false: not one it reads.
func (w *WageLine) member(name string, v []byte) bool {
	if v[0] == 'n' { // null leaves the field as it is, as encoding/json does
		return name != "quarter" && memberIndex(name) >= 0
	}
	var ok bool
	switch name {
	case "person":
		w.Person, ok = str(v)
	case "employer":
		w.Employer, ok = str(v)
	case "contribution":
		w.Contribution, ok = str(v)
	case "quarter":
		ok = v[0] == '"' && w.Quarter.UnmarshalJSON(v) == nil
	case "wages":
		w.Wages, ok = integer(v)
	case "bonus":
		w.Bonus, ok = integer(v)
	case "days":
		var d int64
		d, ok = integer(v)
		w.Days = int(d)
	case "hours":
		w.Hours, ok = number(v)
	case "fraction":
		w.Fraction, ok = number(v)
	}
	return ok
}

func memberIndex(name string) int {
	for i, c := range Columns {
		if c == name {
			return i
		}
	}
	return -1
}

func str(v []byte) (string, bool) {
	if v[0] != '"' {
		return "", false
	}
	return rawjson.Unquote(v)
}

func integer(v []byte) (int64, bool) {
	if v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return 0, false
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	return n, err == nil
}

func number(v []byte) (float64, bool) {
	if v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return f, err == nil
}
