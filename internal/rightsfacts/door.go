package rightsfacts

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/rights"
)

// sealTries is how many times a batch's record is tried before the run stops.
const sealTries = 8

// Client is the name the engine's reads are recorded under in the audit log.
const Client = "crossroads-rights-engine"

// Purpose is the purpose an authorization must name for the reads of a right's rule.
func Purpose(right string) string { return rights.Purpose(right) }

// factFields are the fields of its source each fact stands for, which the granting
// institution's authorization must cover.
var factFields = map[string][]string{
	"age": {"birth_date"}, "alive": {"death_date"}, "sex": {"sex"}, "region": {"address.region"}, "resident": {"address.municipality"},
	"household_size": {"household"}, "household_adults": {"household"}, "household_children": {"household"},
	"household_elderly": {"household"}, "single_parent": {"household"},
	"income": {"household.monthly_income"}, "household_income": {"household.monthly_income"},
	"income_per_unit": {"household.monthly_income", "household.size"},
	"disabled":        {"disabled"}, "severity": {"severity"}, "disabled_child": {"disabled"},
	"employed": {"employment_periods"}, "quarter_wages": {"wages"},
}

// Fields returns the fields of service a rule reads, sorted.
func Fields(r *rights.Compiled, service string) []string {
	var out []string
	for _, f := range r.Reads {
		if rights.FactSourceOf(f) != service {
			continue
		}
		for _, x := range factFields[f] {
			if !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Door reads facts for the engine through the exchange: each rule's reads are decided
// by the exchange's policy (the rule's institution, each source service it reads, the
// purpose of its right, the fields its facts stand for) and recorded with Seal, a
// record per rule and source naming the batch's persons. A rule refused is reported in
// the batch (rights.Batch.Refused) and decides nothing; its refusal is recorded too.
type Door struct {
	Registers *Registers
	Exchange  *exchange.Exchange
	Now       func() time.Time
	// InFlight is how many batches of a nation's run are recorded at once, while the
	// engine works on the batches before them; 0: 2 (each batch is many records of a
	// thousand persons: more would only queue in the audit log).
	InFlight int
}

var _ rights.FactSource = (*Door)(nil)

func (d *Door) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Read reads the facts of persons (at most rights.MaxPersons) on day.
func (d *Door) Read(ctx context.Context, cat *rights.Catalogue, persons []string, day date.Date) (rights.Batch, error) {
	if len(persons) > rights.MaxPersons {
		return rights.Batch{}, fault.Invalidf("persons", "%d persons at once, more than %d", len(persons), rights.MaxPersons)
	}
	refused, plan := d.authorize(cat, day)
	// The persons asked about are recorded, found or not: the attempt is findable.
	if err := d.record(ctx, plan, persons, day); err != nil {
		return rights.Batch{}, err
	}
	fs, err := d.Registers.Of(ctx, persons, day)
	if err != nil {
		return rights.Batch{}, err
	}
	return rights.Batch{Facts: fs, Refused: refused}, nil
}

// Each reads the whole nation after after, recording batch after batch while the
// engine decides on those recorded before.
func (d *Door) Each(ctx context.Context, cat *rights.Catalogue, after string, day date.Date, fn func(rights.Batch) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type pending struct {
		batch rights.Batch
		done  chan error
	}
	window := d.InFlight
	if window <= 0 {
		window = 2
	}
	queue := make(chan pending, window)
	readErr := make(chan error, 1)
	go func() {
		defer close(queue)
		readErr <- d.Registers.Nation(ctx, after, day, rights.NationBatch, func(fs []rights.Facts) error {
			refused, plan := d.authorize(cat, day)
			p := pending{batch: rights.Batch{Facts: fs, Refused: refused}, done: make(chan error, 1)}
			persons := make([]string, len(fs))
			for i := range fs {
				persons[i] = fs[i].Person
			}
			go func() { p.done <- d.record(ctx, plan, persons, day) }()
			select {
			case queue <- p:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	for p := range queue {
		if err := <-p.done; err != nil {
			cancel()
			return err
		}
		if err := fn(p.batch); err != nil {
			cancel()
			return err
		}
	}
	return <-readErr
}

// read is the reads of one institution for some of its rules, from one or more sources
// (service: their ids joined by "+"), all authorized or all refused: one record a batch
// of persons.
type read struct {
	institution, service string
	rules                []string // ids
	fields               []string
	decision             exchange.Decision
}

// authorize decides each rule's reads, one decision a rule and source; a rule with any
// read refused is refused. The reads are grouped by institution and outcome, so that a
// batch is recorded once for each (the record's service lists the sources, its purpose
// the rights, its authorization the authorizations).
func (d *Door) authorize(cat *rights.Catalogue, day date.Date) (map[string]error, []read) {
	p := d.Exchange.Policy()
	today := date.FromTime(d.now())
	var refused map[string]error
	var plan []read
	for _, r := range cat.Rules() {
		for _, s := range r.Sources() {
			fields := Fields(r, s)
			dec := p.Decide(exchange.Question{Institution: r.Institution, Service: s, Purpose: Purpose(r.ID), Fields: fields, Today: today, Day: day})
			if dec.Permit && len(dec.Capacities) > 0 {
				// The engine decides for everyone the rule covers: an authorization that
				// checks each person's file does not fit a national grant.
				dec = exchange.Decision{Code: exchange.DenyPerson, Reasons: []string{"authorization " + dec.Authorization +
					" is limited to persons on file (capacities); the automatic granting of " + r.ID + " needs one for every resident"}}
			}
			if !dec.Permit {
				if refused == nil {
					refused = map[string]error{}
				}
				if refused[r.ID] == nil {
					refused[r.ID] = fault.Forbiddenf("%s may not read %s for %s: %s", r.Institution, s, r.ID, strings.Join(dec.Reasons, "; "))
				}
			}
			plan = merge(plan, read{institution: r.Institution, service: s, rules: []string{r.ID}, fields: fields, decision: dec})
		}
	}
	return refused, plan
}

// merge adds rd to the plan, into the read of the same institution, source and outcome.
func merge(plan []read, rd read) []read {
	for i := range plan {
		x := &plan[i]
		if x.institution != rd.institution || x.decision.Permit != rd.decision.Permit {
			continue
		}
		if !slices.Contains(x.rules, rd.rules[0]) {
			x.rules = append(x.rules, rd.rules...)
		}
		if !slices.Contains(strings.Split(x.service, "+"), rd.service) {
			x.service += "+" + rd.service
		}
		for _, f := range rd.fields {
			if !slices.Contains(x.fields, f) {
				x.fields = append(x.fields, f)
			}
		}
		slices.Sort(x.fields)
		x.decision.Fields = x.fields
		if a := rd.decision.Authorization; a != "" && !strings.Contains(x.decision.Authorization, a) {
			x.decision.Authorization += ", " + a
		}
		x.decision.Reasons = append(x.decision.Reasons, rd.decision.Reasons...)
		return plan
	}
	rd.decision.Fields = rd.fields
	return append(plan, rd)
}

// purposes is the purpose recorded for the rules of a read.
func purposes(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = Purpose(id)
	}
	return strings.Join(out, ", ")
}

// record seals each read of the plan, naming the persons, in the audit log; it returns
// once every record is durable.
func (d *Door) record(ctx context.Context, plan []read, persons []string, day date.Date) error {
	if len(plan) == 0 || len(persons) == 0 {
		return nil
	}
	req, _ := json.Marshal(struct {
		Persons []string  `json:"persons"`
		Day     date.Date `json:"day"`
	}{persons, day})
	errs := make(chan error, len(plan))
	var wg sync.WaitGroup
	done := d.Exchange.Expect(len(plan))
	defer done()
	start := d.now()
	for _, rd := range plan {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ask := exchange.Ask{Caller: exchange.Caller{ClientID: Client, Institution: rd.institution}, Service: rd.service,
				Purpose: purposes(rd.rules), Fields: rd.fields, Day: day, Request: req, Start: start}
			ans := exchange.Answer{Decision: rd.decision, Persons: persons, Status: 200}
			if !rd.decision.Permit {
				ans.Status, ans.Err = 403, fault.Forbiddenf("%s", strings.Join(rd.decision.Reasons, "; "))
			}
			sum := sha256.Sum256(req)
			// A log slower than the seal's time-out (a busy machine) is tried again: the
			// facts are not used before their reads are recorded, and a record written
			// twice errs on the side the log takes (see exchange.Seal).
			var err error
			for try := range sealTries {
				if _, err = d.Exchange.Seal(ctx, ask, ans, sum[:]); err == nil || ctx.Err() != nil {
					break
				}
				time.Sleep(time.Duration(try+1) * 2 * time.Second)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
