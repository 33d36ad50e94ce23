package rights

import (
	"context"
	"regexp"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Explanation is what a person (or the institution that grants the right) is shown: the
// decision, the rule in readable form and the facts it was based on.
type Explanation struct {
	Person   string        `json:"person"`
	Right    string        `json:"right"`
	Day      date.Date     `json:"day"`
	Rule     RuleText      `json:"rule"`
	Holds    bool          `json:"holds"` // on Day, on the facts read now
	Facts    []Fact        `json:"facts"` // the facts the rule reads, as read now
	Statutes []StatuteHeld `json:"statutes,omitempty"`
	Failure  string        `json:"failure,omitempty"` // the rule could not decide: why
	Decision *Decision     `json:"decision"`          // the latest decision stored; nil: never granted
	History  []Decision    `json:"history"`           // every decision stored on this right
}

// RuleText is a rule as shown with a decision.
type RuleText struct {
	ID             string    `json:"id"`
	Version        int       `json:"version"`
	Kind           string    `json:"kind"`
	Title          string    `json:"title"`
	Description    string    `json:"description,omitempty"`
	LegalReference string    `json:"legal_reference"`
	Institution    string    `json:"institution"`
	ValidFrom      date.Date `json:"valid_from"`
	ValidTo        date.Date `json:"valid_to,omitempty"`
	Expr           string    `json:"expr"`
	Readable       string    `json:"readable"`
}

// StatuteHeld is a statute or right the rule uses, and whether the person holds it.
type StatuteHeld struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Holds bool   `json:"holds"`
}

// Explain explains the decision on right for person on day: the rule, the facts read
// now (through the FactSource: authorized and recorded like every read), what they give,
// and the decisions stored. This is the call the portal makes for the person themselves.
func (e *Engine) Explain(ctx context.Context, person, right string, day date.Date) (Explanation, error) {
	cat := e.Catalogue()
	r := cat.Rule(right)
	if r == nil {
		return Explanation{}, fault.NotFoundf("no right %q in the catalogue", clip(right))
	}
	if day.IsZero() {
		day = date.FromTime(e.now())
	}
	b, err := e.Facts.Read(ctx, cat, []string{person}, day)
	if err != nil {
		return Explanation{}, err
	}
	if len(b.Facts) == 0 {
		return Explanation{}, fault.NotFoundf("no person %s in the register", clip(person))
	}
	f := &b.Facts[0]
	ex := Explanation{Person: f.Person, Right: right, Day: day, Rule: textOf(r, cat), Facts: f.Used(r.Reads)}
	ev := cat.evaluator()
	ev.refused = b.Refused
	ev.run(f)
	i := cat.index[right]
	switch ev.results[i] {
	case held:
		ex.Holds = true
	case failed:
		ex.Failure = reason(ev.errs[i])
	}
	for _, u := range r.uses {
		ex.Statutes = append(ex.Statutes, StatuteHeld{ID: u, Title: cat.Rule(u).Title, Holds: ev.results[cat.index[u]] == held})
	}
	hist, err := e.Store.History(ctx, f.Person)
	if err != nil {
		return Explanation{}, err
	}
	ex.History = []Decision{}
	for _, d := range hist {
		if d.Right == right {
			ex.History = append(ex.History, d)
		}
	}
	if n := len(ex.History); n > 0 {
		ex.Decision = &ex.History[n-1]
	}
	return ex, nil
}

func textOf(r *Compiled, cat *Catalogue) RuleText {
	return RuleText{ID: r.ID, Version: r.Version, Kind: r.Kind, Title: r.Title, Description: r.Description,
		LegalReference: r.LegalReference, Institution: r.Institution, ValidFrom: r.ValidFrom, ValidTo: r.ValidTo,
		Expr: r.Expr, Readable: Readable(r.Expr, cat)}
}

// factWords say what each fact is, in words.
var factWords = map[string]string{
	"age": "the age", "alive": "alive", "sex": "the sex", "region": "the region", "resident": "resident",
	"household_size": "the number of members of the household", "household_adults": "the adults of the household",
	"household_children": "the children of the household", "household_elderly": "the members of 65 or more",
	"single_parent": "a single parent", "income": "the person's monthly income", "household_income": "the household's monthly income",
	"income_per_unit": "the household's monthly income per consumption unit", "disabled": "disabled (a lot of difficulty or more in a domain)",
	"severity": "the severity of the difficulties", "disabled_child": "a child of the household is disabled",
	"employed": "employed", "quarter_wages": "the wages declared for the last quarter",
}

var readableToken = regexp.MustCompile(`statute\("([a-z0-9-]+)"\)|&&|\|\||>=|<=|==|!=|!|<|>|[a-z_]+`)

// Readable writes an expression in words: "alive and the age is at least 65 and …".
func Readable(src string, cat *Catalogue) string {
	out := readableToken.ReplaceAllStringFunc(src, func(tok string) string {
		if m := readableToken.FindStringSubmatch(tok); m[1] != "" {
			if cat != nil && cat.Rule(m[1]) != nil {
				return "holds “" + cat.Rule(m[1]).Title + "”"
			}
			return "holds " + m[1]
		}
		switch tok {
		case "&&", "and":
			return "and"
		case "||", "or":
			return "or"
		case "!", "not":
			return "not "
		case ">=":
			return "is at least"
		case "<=":
			return "is at most"
		case "<":
			return "is below"
		case ">":
			return "is above"
		case "==":
			return "is"
		case "!=":
			return "is not"
		}
		if w, ok := factWords[tok]; ok {
			return w
		}
		return tok
	})
	return strings.Join(strings.Fields(strings.ReplaceAll(out, "not  ", "not ")), " ")
}
