package exchange

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"sync"
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
	Query   query.Query // a filter's Query.Scope bounds the persons it may see
	Fields  []string
	Day     date.Date // the day the question is about: the answer is the record as it stood then
	Today   date.Date // the day it is asked; a source that cannot answer for Day < Today says so
}

// Past reports whether the question is about a day before today.
func (r SourceRequest) Past() bool { return r.Day < r.Today }

// SourceResult is a source's answer: decoded records (a built-in source), or records as
// the JSON the source sent (Raw: a remote source, minimised without decoding). Person
// records carry the person number in the field "person", which the hub uses for the
// person check.
type SourceResult struct {
	Records []map[string]any
	Raw     []RawRecord
	Total   int
	// RecordType is the type the source gave its records (a remote source's
	// reg_record_type), kept in the answer; "": the registry's own.
	RecordType string
}

// Scoped is a Source that searches within a filter's scope (query.Query.Scope):
// matches, counts, pages and errors computed over the persons the asker may see alone.
// A filter that needs a scope is refused before it reaches a source that is not Scoped,
// since such a source would evaluate it over its whole register.
type Scoped interface {
	SearchesInScope() bool
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
	// RequestSum is the hash of a request too large to hold in Request (a batch's body,
	// read as a stream); zero: the hash of Request.
	RequestSum [32]byte
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
	// RecordType is the source's type of its records (SourceResult.RecordType).
	RecordType string
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
	// Lines is the number of answer lines of a batch chunk (SealChunk), whose response
	// hash is then the Merkle root of those lines; 0 for any other exchange.
	Lines int
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
	lastAsk  atomic.Int64            // when the last question that is not expensive began (unix ns)
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

// Refusal returns the refusal, Err set, that every question sharing ask's caller,
// service, purpose, fields and day would get from the policy whatever it asks (no
// authorization in force for them), or an answer without Err. A request of many such
// questions (a batch, the items of a DCI message) is then refused as a whole and
// recorded once, not once a question, so that refusals cannot flood the audit log.
func (x *Exchange) Refusal(ask Ask) Answer {
	today := date.FromTime(x.now())
	if ask.Day.IsZero() {
		ask.Day = today
	}
	d := x.policy.Load().Decide(Question{Institution: ask.Caller.Institution, Service: ask.Service, Purpose: ask.Purpose, Fields: ask.Fields, Today: today, Day: ask.Day})
	if d.Permit {
		return Answer{Decision: d}
	}
	return refuse(Answer{Decision: d}, d.Reasons[0])
}

// Search decides on a question and, if permitted, asks the source and minimises the
// answer. It never returns data the decision does not allow. The caller must Seal the
// answer (record it) before sending anything.
func (x *Exchange) Search(ctx context.Context, ask Ask) Answer {
	today := date.FromTime(x.now())
	if ask.Day.IsZero() {
		ask.Day = today
	}
	p := x.policy.Load()
	d := p.Decide(Question{Institution: ask.Caller.Institution, Service: ask.Service, Purpose: ask.Purpose, Fields: ask.Fields, Today: today, Day: ask.Day})
	if IsEnginePurpose(ask.Purpose) { // the rights engine reads through its own door, never a question
		d = deny(DenyPurpose, "purpose %q is reserved to the rights engine", clip(ask.Purpose))
	}
	// Every person the question names is noted before anything can refuse it, so that
	// the attempt is found among that person's exchanges whatever its outcome.
	ans := Answer{Decision: d, Persons: Named(ask.Query)}
	if !d.Permit {
		return refuse(ans, d.Reasons[0])
	}
	checked := false // the person asked about was checked against the directory
	if why := identifies(ask.Query, d.Identify); why != "" {
		ans.Decision = deny(DenyFields, "%s", why)
		return refuse(ans, why)
	}
	switch ask.Query.Kind {
	case query.KindID:
		// Every type naming a person number (IDTypes) is checked before the question
		// reaches the source; a UIN too when it is a person number. Other UINs (a
		// registry's own, such as a conformance fixture's) are checked on the records the
		// source returns, as every answer is.
		kind := IDTypeOf(ask.Query.IDType)
		if kind != IDPerson && (kind != IDUnique || !ident.ValidPerson(ask.Query.IDValue)) {
			break
		}
		pn, err := ident.ParsePerson(ask.Query.IDValue)
		if err != nil {
			ans.Decision = deny(DenyInvalid, "the question names %q, which is not a person number", clip(ask.Query.IDValue))
			ans.Err, ans.Status = fault.Invalidf("query.value", "%q is not a person number", clip(ask.Query.IDValue)), 400
			return ans
		}
		ask.Query.IDValue, checked = pn.String(), true
		ok, why := p.Permits(d, ask.Caller.Institution, ask.Query.IDValue, ask.Day)
		ans.Decision.Reasons = append(ans.Decision.Reasons, why)
		if !ok {
			ans.Decision.Permit, ans.Decision.Code = false, DenyPerson
			return refuse(ans, why)
		}
	case query.KindFilter:
		if attr := Ungranted(ask.Query, d.Fields); attr != "" {
			ans.Decision = deny(DenyFields, "field %s is not authorized for %s on %s: a filter and its order may use only the fields the authorization grants",
				clip(attr), ask.Caller.Institution, ask.Service)
			return refuse(ans, ans.Decision.Reasons[0])
		}
		if !Covers(d.Fields, "person") {
			// Records in person-number order would tell the birth order of persons whose
			// numbers the asker may not read.
			ask.Query.Opaque = ask.Caller.Institution
		}
	}
	if ask.Day < today && !checked {
		// Only a look-up by person number is checked against the directory before the
		// source is asked; anything else about a past day would have the source rebuild
		// records of persons the asker may not see.
		ans.Decision = deny(DenyDay, "a question about a past day (%s) must name the person by person number", ask.Day)
		ans.Err, ans.Status = fault.Invalidf("header.meta.on_date", "%s", ans.Decision.Reasons[0]), 400
		return ans
	}
	ctx, release, err := x.admit(ctx, ask)
	if err != nil {
		return limited(ans, err)
	}
	defer release()
	src, err := x.sources.Source(ask.Service)
	if err != nil {
		return failed(ans, err)
	}
	if ask.Query.Kind == query.KindFilter && len(d.Capacities) > 0 {
		if s, ok := src.(Scoped); !ok || !s.SearchesInScope() {
			ans.Decision = deny(DenyPerson, "the source of %s cannot search within the persons %s holds a file on: its filters are refused under this authorization; ask by identifier",
				ask.Service, ask.Caller.Institution)
			return refuse(ans, ans.Decision.Reasons[0])
		}
		ask.Query.Scope = p.index.Scope(ask.Caller.Institution, d.Capacities, ask.Day)
	}
	res, err := src.Search(ctx, SourceRequest{Service: ask.Service, Query: ask.Query, Fields: d.Fields, Day: ask.Day, Today: today})
	if err != nil {
		return failed(ans, err)
	}
	return x.filter(ask, ans, p, res, checked)
}

// filter keeps the records about persons the asker may see, minimised to the fields.
// checked says whether the person an identifier look-up names was checked before.
func (x *Exchange) filter(ask Ask, ans Answer, p *Policy, res SourceResult, checked bool) Answer {
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
	ans.Total, ans.RecordType = res.Total-ans.Withheld, res.RecordType
	if ans.Withheld > 0 {
		ans.Decision.Reasons = append(ans.Decision.Reasons, itoa(ans.Withheld)+" record(s) withheld: persons not in the asker's person directory")
	}
	// An identifier that is not a person number (a BRN, a registry's own id) is checked
	// on the records the source returns: when none of them is about a person the asker
	// may see, the answer is the source's "no record", whether it found no one or only
	// others (withheld), so it tells nothing about persons outside the asker's directory
	// and gives no wrong reason when the registry simply holds no such identifier.
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
	switch fault.KindOf(err) {
	case fault.NotFound:
		ans.Status = 404
	case fault.Invalid:
		ans.Status = 400 // the source cannot answer this question (a past day, a filter it does not take)
	default:
		ans.Status = 502
	}
	return ans
}

// SealTimeout bounds the wait for an exchange's record to be durable.
const SealTimeout = 10 * time.Second

// Seal records the exchange in the audit log with the hash of the response about to be
// sent. If it cannot be recorded, the caller must not send the response.
func (x *Exchange) Seal(ctx context.Context, ask Ask, ans Answer, response []byte) (int64, error) {
	e := Entry{Time: x.now().UTC(), Client: ask.Caller.ClientID, MessageID: ask.MessageID, Institution: ask.Caller.Institution,
		Service: ask.Service, Purpose: ask.Purpose, Persons: ans.Persons, Fields: ans.Decision.Fields,
		Decision: "deny", Reasons: ans.Decision.Reasons, Authorization: ans.Decision.Authorization,
		Outcome: outcome(ans), Status: ans.Status,
		RequestHash: sha256.Sum256(ask.Request), ResponseHash: sha256.Sum256(response)}
	if ask.RequestSum != ([32]byte{}) {
		e.RequestHash = ask.RequestSum
	}
	if ans.Decision.Permit {
		e.Decision = "permit"
	}
	if !ask.Start.IsZero() {
		e.Latency = x.now().Sub(ask.Start)
	}
	// The record is written even when the caller has gone (its request's context is
	// cancelled): the attempt must be found all the same.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), SealTimeout)
	defer cancel()
	parts := splitPersons(e.Persons)
	e.Persons = parts[0]
	if len(parts) > 1 {
		e.Reasons = append(slices.Clip(e.Reasons), partReason(1, len(parts)))
	}
	seq, err := x.recorder.Record(ctx, bounded(e))
	if err != nil {
		return 0, fault.Unavailablef(err, "the exchange could not be recorded in the audit log, so it was refused")
	}
	if err := x.sealParts(ctx, e, parts); err != nil {
		return 0, err
	}
	return seq, nil
}

// sealParts records the parts after the first of an exchange that names more persons
// than one record holds: each a record of its own, with the same hashes, naming its
// part's persons, several in flight so the log writes them together.
func (x *Exchange) sealParts(ctx context.Context, e Entry, parts [][]string) error {
	if len(parts) < 2 {
		return nil
	}
	base := e.Reasons[:len(e.Reasons)-1]
	var (
		wg    sync.WaitGroup
		slots = make(chan struct{}, 64)
		errs  = make(chan error, 1)
	)
	for i, part := range parts[1:] {
		p := e
		p.Persons, p.Reasons = part, append(slices.Clip(base), partReason(i+2, len(parts)))
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			if _, err := x.recorder.Record(ctx, bounded(p)); err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return fault.Unavailablef(err, "the exchange could not be recorded in the audit log, so it was refused")
	default:
		return nil
	}
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
