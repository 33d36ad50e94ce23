package g2p

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// Question is a look-up the programme makes through the hub about one person.
type Question struct {
	Service string
	Purpose string
	Fields  []string
}

// Action is something the programme did with personal data that is not a question to
// a source (an account verified, a mapping resolved, a payment instructed): recorded in
// the hub's audit log like an exchange, naming the persons, never the account numbers.
type Action struct {
	Service string // "g2p.bank", "g2p.mapper", "g2p.disburse", "g2p.registration"
	Purpose string
	Persons []string
	Outcome string
	Reasons []string
	Request []byte // hashed, not kept
	Result  []byte // hashed, not kept
	Deny    bool
}

// Hub is what a programme needs of the hub.
type Hub interface {
	// Ask asks q about person, by person number: decided, minimised and recorded. The
	// record is nil when the source has none; an error when the hub refused.
	Ask(ctx context.Context, q Question, person string) (map[string]any, int64, error)
	// AskMany asks q about many persons at once, recorded in records of at most
	// exchange.MaxAuditPersons persons; records by person number.
	AskMany(ctx context.Context, q Question, persons []string) (map[string]map[string]any, int64, error)
	// Record writes an Action in the audit log.
	Record(ctx context.Context, a Action) (int64, error)
	// OpenFiles declares the programme's files on persons in the person directory, from
	// day: what lets the hub answer its questions about them. A person it already has
	// a file on is no error.
	OpenFiles(ctx context.Context, persons []string, day date.Date) error
}

// ExchangeHub is Hub over the hub's exchange, in process.
type ExchangeHub struct {
	X        *exchange.Exchange
	Caller   exchange.Caller // the programme's institution and application
	Recorder exchange.Recorder
	Files    func(ctx context.Context, persons []string, day date.Date) error
	Now      func() time.Time
	// Workers is how many look-ups AskMany runs at once (default 4).
	Workers int
}

func (h *ExchangeHub) ask(q Question, person string) exchange.Ask {
	req, _ := json.Marshal(map[string]any{"service": q.Service, "person": person, "fields": q.Fields})
	return exchange.Ask{Caller: h.Caller, Service: q.Service, Purpose: q.Purpose, Fields: q.Fields,
		Query: query.Query{Kind: query.KindID, IDType: "PN", IDValue: person}, Request: req, Start: h.Now()}
}

// Ask asks through the exchange and seals the answer before returning it.
func (h *ExchangeHub) Ask(ctx context.Context, q Question, person string) (map[string]any, int64, error) {
	ask := h.ask(q, person)
	ans := h.X.Search(ctx, ask)
	body, _ := json.Marshal(ans.Decoded())
	seq, err := h.X.Seal(ctx, ask, ans, body)
	if err != nil {
		return nil, 0, err
	}
	if ans.Err != nil {
		return nil, seq, ans.Err
	}
	if recs := ans.Decoded(); len(recs) > 0 {
		return recs[0], seq, nil
	}
	return nil, seq, nil
}

// AskMany asks each person in turn, several at once, and seals what was answered
// together (records of at most exchange.MaxAuditPersons persons each); a refusal is
// sealed on its own and fails the whole.
func (h *ExchangeHub) AskMany(ctx context.Context, q Question, persons []string) (map[string]map[string]any, int64, error) {
	out := make(map[string]map[string]any, len(persons))
	if len(persons) == 0 {
		return out, 0, nil
	}
	workers := h.Workers
	if workers <= 0 {
		workers = 4
	}
	answers := make([]exchange.Answer, len(persons))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(persons); i += workers {
				answers[i] = h.X.Search(ctx, h.ask(q, persons[i]))
			}
		}()
	}
	wg.Wait()
	sum := sha256.New()
	all := exchange.Answer{Status: 200}
	for i, ans := range answers {
		if ans.Err != nil {
			ask := h.ask(q, persons[i])
			seq, err := h.X.Seal(ctx, ask, ans, nil)
			if err != nil {
				return nil, 0, err
			}
			return nil, seq, fault.In(persons[i], ans.Err)
		}
		all.Decision = ans.Decision
		all.Persons = append(all.Persons, ans.Persons...)
		for _, r := range ans.Decoded() {
			out[persons[i]] = r
			b, _ := json.Marshal(r)
			sum.Write(b)
		}
	}
	ask := h.ask(q, "")
	ask.Request, _ = json.Marshal(map[string]any{"service": q.Service, "persons": len(persons), "fields": q.Fields})
	seq, err := h.X.Seal(ctx, ask, all, sum.Sum(nil))
	return out, seq, err
}

// Record writes a in the audit log as the programme's.
func (h *ExchangeHub) Record(ctx context.Context, a Action) (int64, error) {
	e := exchange.Entry{Time: h.Now().UTC(), Client: h.Caller.ClientID, Institution: h.Caller.Institution,
		Service: a.Service, Purpose: a.Purpose, Persons: a.Persons, Decision: "permit", Reasons: a.Reasons,
		Outcome: a.Outcome, Status: 200, RequestHash: sha256.Sum256(a.Request), ResponseHash: sha256.Sum256(a.Result)}
	if a.Deny {
		e.Decision, e.Status = "deny", 403
	}
	// Recorded even when the caller went away: the act happened.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), exchange.SealTimeout)
	defer cancel()
	seq, err := h.Recorder.Record(ctx, e)
	if err != nil {
		return 0, fault.Unavailablef(err, "the programme's action could not be recorded in the audit log, so it was not done")
	}
	return seq, nil
}

// OpenFiles declares the programme's files.
func (h *ExchangeHub) OpenFiles(ctx context.Context, persons []string, day date.Date) error {
	return h.Files(ctx, persons, day)
}
