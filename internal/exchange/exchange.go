package exchange

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// Source is an authentic source: the built-in civil register or a remote registry.
// Both are reached through this interface, so the exchange treats them alike.
type Source interface {
	Search(ctx context.Context, r SourceRequest) (SourceResult, error)
}

// SourceRequest is what the hub asks a source: the question and the fields it may return.
type SourceRequest struct {
	Service string
	Query   query.Query
	Fields  []string
	Day     date.Date
}

// SourceResult is a source's answer: decoded records (a built-in source), or records as
// the JSON the source sent (Raw: a remote source, minimised without decoding). Person
// records carry the person number in the field "person", which the hub uses for the
// person check.
type SourceResult struct {
	Records []map[string]any
	Raw     []RawRecord
	Total   int
}

// Sources finds the source of a service.
type Sources interface {
	Source(service string) (Source, error)
}

// Caller is the authenticated application and its institution.
type Caller struct {
	ClientID    string
	Institution string
}

// Ask is one question to one service.
type Ask struct {
	Caller  Caller
	Service string
	Purpose string
	Fields  []string
	Day     date.Date // the date asked about; zero is today
	Query   query.Query
	Request []byte // the bytes of the request, hashed for the audit log (not kept)
	// MessageID is the sender's message id, kept in the audit log (it lets a restarted
	// hub recognise a repeated message).
	MessageID string
	Start     time.Time
}

// Answer is the outcome of a question.
type Answer struct {
	Decision Decision
	Records  []map[string]any  // the records, minimised (from a source's decoded records)
	Raw      []json.RawMessage // the records, minimised (from a source's raw records)
	Total    int
	Persons  []string // the persons the answer concerns (or the question named)
	Withheld int      // records the source returned about persons the asker may not see
	Err      error    // why the question was refused or failed; nil when answered
	Status   int      // outcome as an HTTP-like status, for the audit log
}

// Entry is what the audit log keeps of one exchange.
type Entry struct {
	Time          time.Time
	Client        string
	MessageID     string
	Institution   string
	Service       string
	Purpose       string
	Persons       []string
	Fields        []string
	Decision      string // permit or deny
	Reasons       []string
	Authorization string
	Outcome       string
	Status        int
	Latency       time.Duration
	RequestHash   [32]byte
	ResponseHash  [32]byte
}

// Recorder appends entries to the audit log; an entry is durable when Record returns.
type Recorder interface {
	Record(ctx context.Context, e Entry) (seq int64, err error)
}

// Expecter is a Recorder that can be told that entries are coming, so that it waits
// for them and writes them together (audit.Log does).
type Expecter interface {
	Expect(n int) (done func())
}

// Expect tells the recorder that n exchanges have begun and will be sealed; call done
// once they are over, sealed or not.
func (x *Exchange) Expect(n int) (done func()) {
	if e, ok := x.recorder.(Expecter); ok {
		return e.Expect(n)
	}
	return func() {}
}

// Exchange runs questions: decide, route, minimise, record.
type Exchange struct {
	policy   atomic.Pointer[Policy]
	sources  Sources
	recorder Recorder
	now      func() time.Time
	limits   atomic.Pointer[limiter] // of expensive questions (limit.go)
}

// New returns an exchange deciding with policy.
func New(policy *Policy, sources Sources, recorder Recorder, now func() time.Time) *Exchange {
	if now == nil {
		now = time.Now
	}
	x := &Exchange{sources: sources, recorder: recorder, now: now}
	x.policy.Store(policy)
	return x
}

// SetPolicy replaces the policy (after the directory's authorizations changed).
func (x *Exchange) SetPolicy(p *Policy) { x.policy.Store(p) }

// Policy returns the policy in force.
func (x *Exchange) Policy() *Policy { return x.policy.Load() }

// personIDTypes are the identifier types that name a person number, checked before
// the question reaches the source. A UIN is checked so when it is a person number; other
// UINs (a registry's own, such as a conformance fixture's) are checked on the records the
// source returns, as every answer is.
var personIDTypes = []string{"PN", "NIN", "PERSON", "NATIONAL_NUMBER"}

// Search decides on a question and, if permitted, asks the source and minimises the
// answer. It never returns data the decision does not allow. The caller must Seal the
// answer (record it) before sending anything.
func (x *Exchange) Search(ctx context.Context, ask Ask) Answer {
	if ask.Day.IsZero() {
		ask.Day = date.FromTime(x.now())
	}
	p := x.policy.Load()
	d := p.Decide(Question{Institution: ask.Caller.Institution, Service: ask.Service, Purpose: ask.Purpose, Fields: ask.Fields, Day: ask.Day})
	ans := Answer{Decision: d}
	if !d.Permit {
		return refuse(ans, d.Reasons[0])
	}
	idType := strings.ToUpper(ask.Query.IDType)
	if ask.Query.Kind == query.KindID && (slices.Contains(personIDTypes, idType) || (idType == "UIN" && ident.ValidPerson(ask.Query.IDValue))) {
		pn, err := ident.ParsePerson(ask.Query.IDValue)
		if err != nil {
			ans.Decision = deny(DenyInvalid, "the question names %q, which is not a person number", clip(ask.Query.IDValue))
			ans.Err, ans.Status = fault.Invalidf("query.value", "%q is not a person number", clip(ask.Query.IDValue)), 400
			return ans
		}
		ask.Query.IDValue = pn.String()
		ans.Persons = []string{ask.Query.IDValue}
		ok, why := p.Permits(d, ask.Caller.Institution, ask.Query.IDValue, ask.Day)
		ans.Decision.Reasons = append(ans.Decision.Reasons, why)
		if !ok {
			ans.Decision.Permit, ans.Decision.Code = false, DenyPerson
			return refuse(ans, why)
		}
	}
	release, err := x.admit(ctx, ask)
	if err != nil {
		return limited(ans, err)
	}
	defer release()
	src, err := x.sources.Source(ask.Service)
	if err != nil {
		return failed(ans, err)
	}
	res, err := src.Search(ctx, SourceRequest{Service: ask.Service, Query: ask.Query, Fields: d.Fields, Day: ask.Day})
	if err != nil {
		return failed(ans, err)
	}
	return x.filter(ask, ans, p, res)
}

// filter keeps the records about persons the asker may see, minimised to the fields.
func (x *Exchange) filter(ask Ask, ans Answer, p *Policy, res SourceResult) Answer {
	d := ans.Decision
	// keep says whether the record about person may be returned, and notes the person.
	keep := func(person string) bool {
		if person != "" && !slices.Contains(ans.Persons, person) {
			ans.Persons = append(ans.Persons, person)
		}
		if len(d.Capacities) > 0 {
			if ok, _ := p.Permits(d, ask.Caller.Institution, person, ask.Day); !ok || person == "" {
				ans.Withheld++
				return false
			}
		}
		return true
	}
	for _, r := range res.Records {
		person, _ := r["person"].(string)
		if keep(person) {
			ans.Records = append(ans.Records, Minimise(r, d.Fields))
		}
	}
	for _, r := range res.Raw {
		if !keep(r.Person) {
			continue
		}
		m, ok := MinimiseJSON(r.JSON, d.Fields)
		if !ok {
			return failed(ans, fault.Unavailablef(nil, "the source answered a record that is not a JSON object"))
		}
		ans.Raw = append(ans.Raw, m)
	}
	ans.Total = res.Total - ans.Withheld
	if ans.Withheld > 0 {
		ans.Decision.Reasons = append(ans.Decision.Reasons, itoa(ans.Withheld)+" record(s) withheld: persons not in the asker's person directory")
	}
	if ans.Len() == 0 && ans.Withheld > 0 && ask.Query.Kind == query.KindID {
		// The one person asked about is not the asker's: refuse, as the person check before
		// the exchange would have, rather than answer "not found".
		ans.Decision.Permit, ans.Decision.Code = false, DenyPerson
		return refuse(ans, "the person asked about is not in "+ask.Caller.Institution+"'s person directory")
	}
	ans.Status = 200
	return ans
}

// Len is the number of records in the answer.
func (a Answer) Len() int { return len(a.Records) + len(a.Raw) }

// Items returns the records to encode: maps or raw JSON objects.
func (a Answer) Items() []any {
	out := make([]any, 0, a.Len())
	for _, r := range a.Records {
		out = append(out, r)
	}
	for _, r := range a.Raw {
		out = append(out, r)
	}
	return out
}

// Decoded returns the records as maps, decoding raw ones.
func (a Answer) Decoded() []map[string]any {
	out := slices.Clone(a.Records)
	for _, r := range a.Raw {
		var m map[string]any
		if json.Unmarshal(r, &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

func refuse(ans Answer, why string) Answer {
	ans.Err = fault.Forbiddenf("%s", why)
	ans.Status = 403
	ans.Records, ans.Raw, ans.Total = nil, nil, 0
	return ans
}

func failed(ans Answer, err error) Answer {
	if fault.KindOf(err) == fault.Internal {
		err = fault.Unavailablef(err, "the authentic source could not answer")
	}
	ans.Err = err
	ans.Records, ans.Raw, ans.Total = nil, nil, 0
	ans.Status = 502
	if fault.KindOf(err) == fault.NotFound {
		ans.Status = 404
	}
	return ans
}

// Seal records the exchange in the audit log with the hash of the response about to be
// sent. If it cannot be recorded, the caller must not send the response.
func (x *Exchange) Seal(ctx context.Context, ask Ask, ans Answer, response []byte) (int64, error) {
	e := Entry{Time: x.now().UTC(), Client: ask.Caller.ClientID, MessageID: ask.MessageID, Institution: ask.Caller.Institution,
		Service: ask.Service, Purpose: ask.Purpose, Persons: ans.Persons, Fields: ans.Decision.Fields,
		Decision: "deny", Reasons: ans.Decision.Reasons, Authorization: ans.Decision.Authorization,
		Outcome: outcome(ans), Status: ans.Status,
		RequestHash: sha256.Sum256(ask.Request), ResponseHash: sha256.Sum256(response)}
	if ans.Decision.Permit {
		e.Decision = "permit"
	}
	if !ask.Start.IsZero() {
		e.Latency = x.now().Sub(ask.Start)
	}
	seq, err := x.recorder.Record(ctx, bounded(e))
	if err != nil {
		return 0, fault.Unavailablef(err, "the exchange could not be recorded in the audit log, so it was refused")
	}
	return seq, nil
}

func outcome(ans Answer) string {
	switch {
	case ans.Err == nil:
		return "answered"
	case fault.KindOf(ans.Err) == fault.Invalid:
		return "invalid"
	case !ans.Decision.Permit:
		return "refused"
	case fault.KindOf(ans.Err) == fault.NotFound:
		return "not_found"
	}
	return "source_error"
}

func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
