package g2p

import (
	"context"
	"crypto/sha256"
	"encoding/json"
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
	// Deceased asks q's service, by filter over the persons the programme holds files
	// on, who died on or after since: their death dates by person number. One
	// question, whatever the size of the list.
	Deceased(ctx context.Context, q Question, since date.Date) (map[string]date.Date, []int64, error)
	// Identify searches q's service, by filter over the whole register (the applicant
	// has no file yet), for the persons of one of id's names born on its day: at most
	// IdentifyPage records, decided and recorded like any question.
	Identify(ctx context.Context, q Question, id Identity) ([]map[string]any, int64, error)
	// Record writes an Action in the audit log.
	Record(ctx context.Context, a Action) (int64, error)
	// OpenFiles declares the programme's files on persons in the person directory, from
	// day: what lets the hub answer its questions about them. A person it already has
	// a file on is no error.
	OpenFiles(ctx context.Context, persons []string, day date.Date) error
	// CloseFiles ends the programme's open files on persons on day: an applicant
	// refused keeps no file, so the hub answers no more questions about them and
	// delivers no more of their changes to the programme. A person without an open file
	// is no error.
	CloseFiles(ctx context.Context, persons []string, day date.Date) error
}

// ExchangeHub is Hub over the hub's exchange, in process.
type ExchangeHub struct {
	X        *exchange.Exchange
	Caller   exchange.Caller // the programme's institution and application
	Recorder exchange.Recorder
	Files    func(ctx context.Context, persons []string, day date.Date) error
	Close    func(ctx context.Context, persons []string, day date.Date) error
	Now      func() time.Time
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

// IdentifyPage is the most records a search by name returns: enough to tell one
// person from several, never a list (directory.MaxIdentifyRecords, which the exchange
// holds an identification to).
const IdentifyPage = 3

// Identify searches the register by name and birth date through the exchange, and seals
// the answer before returning it.
func (h *ExchangeHub) Identify(ctx context.Context, q Question, id Identity) ([]map[string]any, int64, error) {
	names := make([]*query.Cond, 0, len(id.Names))
	for _, n := range id.Names {
		names = append(names, &query.Cond{Op: query.And, Args: []*query.Cond{
			{Op: query.Eq, Attr: "given_name", Value: n.Given}, {Op: query.Eq, Attr: "family_name", Value: n.Family}}})
	}
	filter := query.Cond{Op: query.And, Args: []*query.Cond{
		{Op: query.Eq, Attr: "birth_date", Value: id.BirthDate.String()}, {Op: query.Or, Args: names}}}
	ask := exchange.Ask{Caller: h.Caller, Service: q.Service, Purpose: q.Purpose, Fields: q.Fields, Start: h.Now(),
		Query: query.Query{Kind: query.KindFilter, Filter: &filter, Sort: []query.SortKey{{Attr: "person"}}, Page: 1, PageSize: IdentifyPage}}
	ask.Request, _ = json.Marshal(map[string]any{"service": q.Service, "names": id.Names, "birth_date": id.BirthDate.String()})
	ans := h.X.Search(ctx, ask)
	body, _ := json.Marshal(ans.Decoded())
	seq, err := h.X.Seal(ctx, ask, ans, body)
	if err != nil {
		return nil, 0, err
	}
	if ans.Err != nil {
		return nil, seq, ans.Err
	}
	return ans.Decoded(), seq, nil
}

// CloseFiles ends the programme's files.
func (h *ExchangeHub) CloseFiles(ctx context.Context, persons []string, day date.Date) error {
	return h.Close(ctx, persons, day)
}

// deathPage is the page size of Deceased's filter.
const deathPage = 1000

// Deceased asks the civil register, by filter within the programme's files, for the
// deaths since a day, page by page, each page sealed naming its persons.
func (h *ExchangeHub) Deceased(ctx context.Context, q Question, since date.Date) (map[string]date.Date, []int64, error) {
	out := map[string]date.Date{}
	var seqs []int64
	for page := 1; ; page++ {
		ask := exchange.Ask{Caller: h.Caller, Service: q.Service, Purpose: q.Purpose, Fields: q.Fields, Start: h.Now(),
			Query: query.Query{Kind: query.KindFilter, Filter: &query.Cond{Op: query.Ge, Attr: "death_date", Value: since.String()},
				Sort: []query.SortKey{{Attr: "person"}}, Page: page, PageSize: deathPage}}
		ask.Request, _ = json.Marshal(map[string]any{"service": q.Service, "death_date_from": since.String(), "page": page})
		ans := h.X.Search(ctx, ask)
		body, _ := json.Marshal(ans.Decoded())
		seq, err := h.X.Seal(ctx, ask, ans, body)
		if err != nil {
			return nil, seqs, err
		}
		seqs = append(seqs, seq)
		if ans.Err != nil {
			return nil, seqs, ans.Err
		}
		recs := ans.Decoded()
		for _, r := range recs {
			p, _ := r["person"].(string)
			if d, err := date.Parse(str(r["death_date"])); err == nil && p != "" {
				out[p] = d
			}
		}
		if len(recs) < deathPage || page*deathPage >= ans.Total {
			return out, seqs, nil
		}
	}
}
