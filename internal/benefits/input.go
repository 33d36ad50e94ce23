package benefits

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// Input is what a reporter sends.
type Input struct {
	Action    string    `json:"action"` // "": report
	Person    string    `json:"person"`
	Right     string    `json:"right"`
	Reference string    `json:"reference"`
	Benefit   string    `json:"benefit"`
	From      date.Date `json:"from"`
	Until     date.Date `json:"until"`
}

// Bounds on the texts of a report.
const (
	MaxReference = 100
	MaxBenefit   = 200
	MaxInput     = 4 << 10 // bytes of one report sent as JSON
	// MaxAhead is how many days after today a benefit may start: one granted from the
	// first of next month is reported now; a start further ahead is a typing error (or
	// rests on a decision that may change before then).
	MaxAhead = 31
)

// ParseInput reads one report sent as a JSON object, unknown members refused, and
// checks it (Input.Check).
func ParseInput(b []byte) (Input, error) {
	var in Input
	if len(b) > MaxInput {
		return in, fault.TooLargef("body", "a report is at most %d bytes", MaxInput)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return Input{}, fault.Invalidf("body", "a report is a JSON object {action, person, right, reference, benefit, from, until}: %s",
			strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return Input{}, fault.Invalidf("body", "one report, one JSON object")
	}
	if name := repeated(b); name != "" {
		return Input{}, fault.Invalidf(name, "appears twice in the report; each member appears once")
	}
	return in, in.Check()
}

// inputMembers are the names of Input's members.
var inputMembers = []string{"action", "person", "right", "reference", "benefit", "from", "until"}

// repeated returns the first member of the report object b (decoded already) that
// appears twice, "" when none does. encoding/json would take the last silently, and
// matches names without regard to case: "From" is "from" too.
func repeated(b []byte) string {
	var seen [8]bool
	dup := ""
	rawjson.EachMember(b, func(name string, _ []byte) bool {
		for i, m := range inputMembers {
			if strings.EqualFold(name, m) {
				if seen[i] {
					dup = m
					return false
				}
				seen[i] = true
			}
		}
		return true
	})
	return dup
}

// Check checks the input alone, before anything is read: each refusal names its field.
func (in *Input) Check() error {
	if in.Action == "" {
		in.Action = Reported
	}
	in.Person, in.Right, in.Reference, in.Benefit = strings.TrimSpace(in.Person), strings.TrimSpace(in.Right),
		strings.TrimSpace(in.Reference), strings.TrimSpace(in.Benefit)
	switch {
	case in.Action != Reported && in.Action != Corrected && in.Action != Ended:
		return fault.Invalidf("action", "%q: use report, correct or end", clip(in.Action))
	case in.Reference == "" || len(in.Reference) > MaxReference || !printable(in.Reference):
		return fault.Invalidf("reference", "your own reference of the benefit, 1 to %d printable characters", MaxReference)
	case in.Action == Ended && in.Until.IsZero():
		return fault.Invalidf("until", "an end gives the benefit's last day")
	case in.Action == Ended:
		return nil // the rest is the report's, read from the store
	case !ident.ValidPerson(in.Person):
		return fault.Invalidf("person", "not a valid person number")
	case in.Right == "" || len(in.Right) > 100 || !printable(in.Right):
		return fault.Invalidf("right", "the id of a right of the rights catalogue")
	case in.Benefit == "" || utf8.RuneCountInString(in.Benefit) > MaxBenefit || !printable(in.Benefit):
		return fault.Invalidf("benefit", "what was granted, 1 to %d printable characters", MaxBenefit)
	case in.From.IsZero():
		return fault.Invalidf("from", "the benefit's first day is required (YYYY-MM-DD)")
	case !in.Until.IsZero() && in.Until < in.From:
		return fault.Invalidf("until", "%s is before the first day, %s", in.Until, in.From)
	}
	return nil
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return utf8.ValidString(s)
}

// clip bounds a text of the caller's repeated in an error.
func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
