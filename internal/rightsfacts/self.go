package rightsfacts

import (
	"context"
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

// SelfPurpose is the purpose recorded when a person reads the explanation of their own
// statutes and rights.
const SelfPurpose = exchange.SelfPurpose + ": their statutes and rights"

// Self explains a person's own statutes and rights to them (the citizen portal): the
// facts are read once for every rule in force, through the engine's explanation, and
// the reading is sealed in the audit log under the institution SELF, naming the person
// and every source read, before anything is returned (fail closed) — as the portal's
// other readings of the person's own data are. It answers about the person given
// only: the caller (the portal's session) says who they are.
type Self struct {
	Engine    *rights.Engine
	Registers *Registers
	Exchange  *exchange.Exchange
	Client    string // the client id recorded (the portal's)
	Now       func() time.Time
}

func (s *Self) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Explain returns the explanation of every statute and right in force on day for
// person (zero day: today). A day after today is refused.
func (s *Self) Explain(ctx context.Context, person string, day date.Date) ([]rights.Explanation, error) {
	number, err := personNumber(person)
	if err != nil {
		return nil, err
	}
	start := s.now()
	today := date.FromTime(start)
	if day.IsZero() {
		day = today
	}
	if day > today {
		return nil, fault.Invalidf("date", "%s is after today (%s)", day, today)
	}
	cat := s.Engine.Catalogue()
	src := &onceSource{reg: s.Registers}
	e := rights.NewEngine(cat, s.Engine.Store, src)
	e.Now = s.Engine.Now
	out := []rights.Explanation{}
	var services, fields []string
	for _, r := range cat.Rules() {
		if !r.ValidOn(day) {
			continue
		}
		ex, err := e.Explain(ctx, number, r.ID, day)
		if err != nil {
			return nil, err
		}
		out = append(out, ex)
		for _, svc := range r.Sources() {
			if !slices.Contains(services, svc) {
				services = append(services, svc)
			}
			for _, f := range Fields(r, svc) {
				if !slices.Contains(fields, f) {
					fields = append(fields, f)
				}
			}
		}
	}
	slices.Sort(services)
	slices.Sort(fields)
	if err := s.seal(ctx, number, day, services, fields, out, start); err != nil {
		return nil, err
	}
	return out, nil
}

// seal records the reading under SELF, naming the person, before it is shown.
func (s *Self) seal(ctx context.Context, person string, day date.Date, services, fields []string, out []rights.Explanation, start time.Time) error {
	ask := exchange.Ask{Caller: exchange.Caller{ClientID: s.Client, Institution: exchange.SelfInstitution},
		Service: strings.Join(services, "+"), Purpose: SelfPurpose, Fields: fields, Day: day, Start: start}
	ask.Request, _ = json.Marshal(map[string]string{"person": person, "day": day.String(), "read": "statutes and rights"})
	ans := exchange.Answer{Decision: exchange.Decision{Permit: true, Fields: fields,
		Reasons: []string{"the person " + person + " asked about their own statutes and rights, authenticated by the portal"}},
		Persons: []string{person}, Status: 200}
	body, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = s.Exchange.Seal(ctx, ask, ans, body)
	return err
}

// onceSource reads a person's facts once and gives them again to every rule explained
// in the same request (one reading, one record).
type onceSource struct {
	reg   *Registers
	mu    sync.Mutex
	key   string
	batch rights.Batch
}

func (o *onceSource) Read(ctx context.Context, cat *rights.Catalogue, persons []string, day date.Date) (rights.Batch, error) {
	key := strings.Join(persons, ",") + "@" + day.String()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.key == key {
		return o.batch, nil
	}
	fs, err := o.reg.Of(ctx, persons, day)
	if err != nil {
		return rights.Batch{}, err
	}
	o.key, o.batch = key, rights.Batch{Facts: fs}
	return o.batch, nil
}

func (o *onceSource) Each(ctx context.Context, cat *rights.Catalogue, after string, day date.Date, fn func(rights.Batch) error) error {
	return fault.Invalidf("persons", "a person's own explanation reads that person only")
}
