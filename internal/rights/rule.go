package rights

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"

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

// ParseRule reads a rule from JSON, refusing unknown fields.
func ParseRule(data []byte) (Rule, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Rule
	if err := dec.Decode(&r); err != nil {
		return Rule{}, fault.Invalidf("rule", "is not a rule in JSON: %s", clip(err.Error()))
	}
	if dec.More() {
		return Rule{}, fault.Invalidf("rule", "has data after the rule's object")
	}
	return r, nil
}

// check checks the rule's own fields (not its expression).
func (r *Rule) check() error {
	switch {
	case !idPattern.MatchString(r.ID):
		return fault.Invalidf("id", "%q: use 2 to 63 lower-case letters, digits and hyphens, starting with a letter", clip(r.ID))
	case r.Version < 1:
		return fault.Invalidf("version", "must be 1 or more")
	case r.Kind != KindStatute && r.Kind != KindRight:
		return fault.Invalidf("kind", "%q: use %s or %s", clip(r.Kind), KindStatute, KindRight)
	case strings.TrimSpace(r.Title) == "":
		return fault.Invalidf("title", "is required")
	case strings.TrimSpace(r.Author) == "":
		return fault.Invalidf("author", "is required")
	case strings.TrimSpace(r.LegalReference) == "":
		return fault.Invalidf("legal_reference", "is required: the text that founds the rule")
	case r.ValidFrom.IsZero():
		return fault.Invalidf("valid_from", "is required")
	case !r.ValidTo.IsZero() && r.ValidTo < r.ValidFrom:
		return fault.Invalidf("valid_to", "%s is before valid_from %s", r.ValidTo, r.ValidFrom)
	case strings.TrimSpace(r.Institution) == "":
		return fault.Invalidf("institution", "is required: the institution that grants the right")
	case strings.TrimSpace(r.Expr) == "":
		return fault.Invalidf("expr", "is required")
	case len(r.Expr) > maxExpr:
		return fault.Invalidf("expr", "is %d bytes, more than %d", len(r.Expr), maxExpr)
	case len(r.Examples) == 0:
		return fault.Invalidf("examples", "at least one example is required, and one that grants and one that does not are better")
	}
	for i, f := range r.Reads {
		if _, ok := factTable[f]; !ok {
			return fault.Invalidf("reads["+itoa(i)+"]", "%q is not a fact: use %s", clip(f), strings.Join(FactNames(), ", "))
		}
	}
	return nil
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
