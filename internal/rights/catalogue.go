package rights

import (
	"embed"
	"io/fs"
	"slices"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

//go:embed catalogue/*.json
var catalogueFS embed.FS

// DemoRules returns the starting catalogue of the demo nation: four statutes
// (increased reimbursement, income guarantee for the elderly, person with a
// disability, guaranteed minimum income) and three additional rights (social energy
// tariff, transport reduction, free waste collection), embedded as JSON files.
func DemoRules() []Rule {
	var out []Rule
	names, _ := fs.Glob(catalogueFS, "catalogue/*.json")
	for _, n := range names {
		data, _ := catalogueFS.ReadFile(n)
		r, err := ParseRule(data)
		if err != nil {
			panic("rights: embedded rule " + n + ": " + err.Error())
		}
		out = append(out, r)
	}
	return out
}

// Catalogue is a set of compiled rules in the order they are evaluated: each after the
// statutes and rights it uses.
type Catalogue struct {
	rules []*Compiled
	index map[string]int
}

// DemoCatalogue compiles DemoRules.
func DemoCatalogue() *Catalogue {
	c, err := NewCatalogue(DemoRules())
	if err != nil {
		panic("rights: the embedded catalogue does not compile: " + err.Error())
	}
	return c
}

// NewCatalogue validates and compiles rules: each rule (Compile), no id twice, no
// dependency cycle.
func NewCatalogue(rules []Rule) (*Catalogue, error) {
	ids := make([]string, 0, len(rules))
	for i, r := range rules {
		if slices.Contains(ids, r.ID) {
			return nil, fault.Invalidf("rules["+itoa(i)+"].id", "%q appears twice", r.ID)
		}
		ids = append(ids, r.ID)
	}
	compiled := make(map[string]*Compiled, len(rules))
	for _, r := range rules {
		c, err := Compile(r, ids)
		if err != nil {
			return nil, fault.In("rule "+r.ID, err)
		}
		compiled[r.ID] = c
	}
	cat := &Catalogue{index: map[string]int{}}
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(id string, path []string) error
	visit = func(id string, path []string) error {
		switch state[id] {
		case 1:
			return fault.Invalidf("expr", "rule %s: a cycle of statutes: %s", id, strings.Join(append(path, id), " → "))
		case 2:
			return nil
		}
		state[id] = 1
		for _, u := range compiled[id].uses {
			if err := visit(u, append(path, id)); err != nil {
				return err
			}
		}
		state[id] = 2
		cat.index[id] = len(cat.rules)
		cat.rules = append(cat.rules, compiled[id])
		return nil
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	for _, id := range sorted {
		if err := visit(id, nil); err != nil {
			return nil, err
		}
	}
	return cat, nil
}

// Rules returns the compiled rules in evaluation order.
func (c *Catalogue) Rules() []*Compiled { return c.rules }

// Rule returns the rule id, nil when the catalogue has none.
func (c *Catalogue) Rule(id string) *Compiled {
	i, ok := c.index[id]
	if !ok {
		return nil
	}
	return c.rules[i]
}

// With returns a catalogue where r replaces the rule of its id (or is added): what a
// rule change would make, for a simulation or a save.
func (c *Catalogue) With(r Rule) (*Catalogue, error) {
	rules := make([]Rule, 0, len(c.rules)+1)
	for _, x := range c.rules {
		if x.ID != r.ID {
			rules = append(rules, x.Rule)
		}
	}
	return NewCatalogue(append(rules, r))
}

// Sources lists the services the rule reads facts from, sorted.
func (c *Compiled) Sources() []string {
	var out []string
	for _, f := range c.Reads {
		if s := factTable[f].source; !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}
