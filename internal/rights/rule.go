package rights

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Rule is a statute or an additional right, as its owner writes it.
type Rule struct {
	ID             string    `json:"id"`
	Version        int       `json:"version"`
	Kind           string    `json:"kind"` // statute or right
	Title          string    `json:"title"`
	Description    string    `json:"description,omitempty"`
	Author         string    `json:"author"`
	LegalReference string    `json:"legal_reference"`
	ValidFrom      date.Date `json:"valid_from"`
	ValidTo        date.Date `json:"valid_to,omitempty"` // zero: no end
	Institution    string    `json:"institution"`        // the institution that owns and grants it
	// Application says the right is paid only on an application made elsewhere: the
	// non-take-up report lists those who meet it on the facts.
	Application bool `json:"application,omitempty"`
	// Programme is the beneficiary registry's programme that pays the right: enrolled
	// from the decision when the right needs no application; else the non-take-up report
	// lists those who meet the rule and are not enrolled in it.
	Programme string    `json:"programme,omitempty"`
	Reads     []string  `json:"reads"` // the facts it reads (each checked against the expression)
	Expr      string    `json:"expr"`
	Examples  []Example `json:"examples"`
}

// Example is a case stored next to a rule: facts, the statutes held, the result wanted.
// Facts not given are zero (false, 0, "").
type Example struct {
	Name     string          `json:"name"`
	Facts    json.RawMessage `json:"facts"`
	Statutes []string        `json:"statutes,omitempty"` // the statutes and rights held
	Want     bool            `json:"want"`
}

// ValidOn reports whether the rule is in force on day.
func (r *Rule) ValidOn(day date.Date) bool {
	return r.ValidFrom <= day && (r.ValidTo.IsZero() || day <= r.ValidTo)
}

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,62}$`)

// ParseRule reads a rule from JSON, refusing unknown fields; an error names the line and
// column of the JSON where it could be placed.
func ParseRule(data []byte) (Rule, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Rule
	if err := dec.Decode(&r); err != nil {
		return Rule{}, fault.Invalidf("rule", "is not a rule in JSON: %s%s", jsonAt(data, err), clip(err.Error()))
	}
	if dec.More() {
		return Rule{}, fault.Invalidf("rule", "has data after the rule's object, at %s", textPosition(data, int(dec.InputOffset())))
	}
	return r, nil
}

// jsonAt says where in data a decoding error is ("line 3, column 7: "), when it can
// be told: a syntax error or a value of the wrong type by its offset, an unknown field
// by where its name first appears.
func jsonAt(data []byte, err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	at := -1
	switch {
	case errors.As(err, &syn):
		at = int(syn.Offset)
	case errors.As(err, &typ):
		at = int(typ.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		at = bytes.Index(data, []byte(name))
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		at = len(data)
	}
	if at < 0 {
		return ""
	}
	return textPosition(data, min(at, len(data))) + ": "
}

// textPosition writes a byte offset of data as "line L, column C" (both from 1, the
// column in characters).
func textPosition(data []byte, at int) string {
	prefix := data[:at]
	line := 1 + bytes.Count(prefix, []byte("\n"))
	if i := bytes.LastIndexByte(prefix, '\n'); i >= 0 {
		prefix = prefix[i+1:]
	}
	return fmt.Sprintf("line %d, column %d", line, 1+utf8.RuneCount(prefix))
}

// check checks the rule's own fields (not its expression), every one.
func (r *Rule) check() (ps problems) {
	if !idPattern.MatchString(r.ID) {
		ps.add(fault.Invalidf("id", "%q: use 2 to 63 lower-case letters, digits and hyphens, starting with a letter", clip(r.ID)))
	}
	if r.Version < 1 {
		ps.add(fault.Invalidf("version", "must be 1 or more"))
	}
	if r.Kind != KindStatute && r.Kind != KindRight {
		ps.add(fault.Invalidf("kind", "%q: use %s or %s", clip(r.Kind), KindStatute, KindRight))
	}
	for _, f := range []struct{ name, value, why string }{
		{"title", r.Title, ""}, {"author", r.Author, ""}, {"legal_reference", r.LegalReference, ": the text that founds the rule"},
		{"institution", r.Institution, ": the institution that grants the right"}, {"expr", r.Expr, ""},
	} {
		if strings.TrimSpace(f.value) == "" {
			ps.add(fault.Invalidf(f.name, "is required%s", f.why))
		}
	}
	if r.ValidFrom.IsZero() {
		ps.add(fault.Invalidf("valid_from", "is required"))
	} else if !r.ValidTo.IsZero() && r.ValidTo < r.ValidFrom {
		ps.add(fault.Invalidf("valid_to", "%s is before valid_from %s", r.ValidTo, r.ValidFrom))
	}
	if len(r.Expr) > maxExpr {
		ps.add(fault.Invalidf("expr", "is %d bytes, more than %d", len(r.Expr), maxExpr))
	}
	if len(r.Examples) == 0 {
		ps.add(fault.Invalidf("examples", "at least one example is required, and one that grants and one that does not are better"))
	}
	for i, f := range r.Reads {
		if _, ok := factTable[f]; !ok {
			ps.add(fault.Invalidf("reads["+itoa(i)+"]", "%q is not a fact: use %s", clip(f), strings.Join(FactNames(), ", ")))
		}
	}
	return ps
}

// problems are the errors of a rule, reported all at once: the first names its field,
// the others follow in its message.
type problems []*fault.Error

func (ps *problems) add(err error) {
	if err == nil {
		return
	}
	var fe *fault.Error
	if !errors.As(err, &fe) {
		fe = fault.Invalidf("", "%s", clip(err.Error()))
	}
	*ps = append(*ps, fe)
}

// err is nil without problems, the one problem, or the first with the others listed.
func (ps problems) err() error {
	switch len(ps) {
	case 0:
		return nil
	case 1:
		return ps[0]
	}
	first := *ps[0]
	more := make([]string, 0, len(ps)-1)
	for _, p := range ps[1:] {
		more = append(more, p.Error())
	}
	first.Msg += fmt.Sprintf(" (and %d more: %s)", len(more), strings.Join(more, "; "))
	return &first
}

const maxExpr = 4096

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

func itoa(n int) string {
	b := []byte{}
	if n == 0 {
		return "0"
	}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
