package exchange

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// Bulk verification: a batch consultation is answered a chunk of up to MaxAuditPersons
// lines at a time. Each line is still its own question — decided (Policy.Decide, then
// Policy.Permits for its person) before its source is asked, its record withheld unless
// it is about that person, and minimised to the fields granted — but the chunk's
// persons are read from the source at once (BulkSource) and the chunk is recorded in
// the audit log as one record naming every person of it (SealChunk), its response hash
// the Merkle root of its answer lines, so that one line can be proved without the others.

// BulkRequest asks a source for the records of many persons by person number, about
// today.
type BulkRequest struct {
	Service string
	Persons []string // valid person numbers in normal form, each once, at most MaxAuditPersons
	Fields  []string // the fields granted: a record may carry these only (the exchange minimises again)
	Today   date.Date
}

// BulkSource is a Source that answers many look-ups by person number in one read (the
// built-in civil register). A source without it is asked one person at a time.
type BulkSource interface {
	// SearchPersons returns the records of the persons it holds among r.Persons, in any
	// order, each a JSON object with its person number in RawRecord.Person; persons it
	// does not hold are left out.
	SearchPersons(ctx context.Context, r BulkRequest) ([]RawRecord, error)
}

// Line is the outcome of one line of a chunk: one person's question.
type Line struct {
	Person string          // the person asked about, in normal form when it is a person number
	Status int             // 200 answered, 400 not a person number, 403 refused, 404 not in the source, 429/503 held back, 502 source error
	Err    error           // why, when Status is not 200
	Record json.RawMessage // the minimised record, when Status is 200
}

// Chunk is the answer to a chunk of a batch: a line a person, in the order asked.
type Chunk struct {
	Decision                 Decision
	Lines                    []Line
	Persons                  []string // the persons the chunk names, each once, in the order of its lines
	Withheld                 int      // records the source returned about persons not asked
	Answered, Refused, Other int
	Start                    time.Time // when the chunk began, for its record's latency
}

// BulkItemCost is what each line of a batch is charged at least on the bulk path. A
// chunk is charged the time it held its evaluation slot, and at least this a line: the
// processor time a line costs the hub end to end on the bulk path (crossroads bench
// exchange --batch: about 10 µs on this machine, audit record included, where a line
// asked on its own costs about 90 µs, ItemCost's 50 µs being its hub side). A refused
// line costs the same (its persons are named in the chunk's record, its line hashed), so
// refusals reach the limits as answers do.
const BulkItemCost = 10 * time.Microsecond

// Chunk answers persons, a chunk of the batch (at most MaxAuditPersons lines: SealChunk
// refuses a chunk naming more persons, so none of its lines can go), once an evaluation
// slot is free: each line decided, then the permitted persons read from the source at
// once. The caller must SealChunk the answer before sending any line of it.
func (b *Batch) Chunk(ctx context.Context, ask Ask, persons []string) Chunk {
	start, err := b.l.take(ctx, b.x.now)
	if err != nil {
		c := Chunk{Lines: make([]Line, len(persons)), Start: b.x.now()}
		ans := limited(Answer{}, err)
		c.Decision = ans.Decision
		for i, s := range persons {
			c.Lines[i] = Line{Person: s, Status: ans.Status, Err: ans.Err}
			if pn, err := ident.ParsePerson(s); err == nil && !slices.Contains(c.Persons, pn.String()) {
				c.Persons = append(c.Persons, pn.String()) // held back: rare, and short
			}
		}
		c.count()
		b.charge(len(persons), 0)
		return c
	}
	c := b.x.chunk(ctx, ask, persons)
	c.Start = start
	b.l.free()
	b.charge(len(persons), b.x.now().Sub(start))
	return c
}

// charge adds a chunk's cost: its time, and at least BulkItemCost a line.
func (b *Batch) charge(lines int, spent time.Duration) {
	b.mu.Lock()
	b.spent += max(spent, time.Duration(lines)*BulkItemCost)
	b.mu.Unlock()
}

// chunk decides each line, asks the source about the permitted persons and fills in
// their lines.
func (x *Exchange) chunk(ctx context.Context, ask Ask, persons []string) Chunk {
	today := date.FromTime(x.now())
	if ask.Day.IsZero() {
		ask.Day = today
	}
	p := x.policy.Load()
	d := p.Decide(Question{Institution: ask.Caller.Institution, Service: ask.Service, Purpose: ask.Purpose, Fields: ask.Fields, Today: today, Day: ask.Day})
	c := Chunk{Decision: d, Lines: make([]Line, len(persons)), Persons: make([]string, 0, len(persons))}
	named := make(map[string]struct{}, len(persons))
	asked := make(map[string][]int, len(persons)) // person → its lines still to answer
	var order []string                            // the persons to ask, each once
	for i, s := range persons {
		l := &c.Lines[i]
		l.Person = s
		pn, err := ident.ParsePerson(s)
		if err != nil {
			l.Status, l.Err = 400, fault.Invalidf("query.value", "%q is not a person number", clip(s))
			continue
		}
		l.Person = pn.String()
		if _, ok := named[l.Person]; !ok {
			named[l.Person] = struct{}{}
			c.Persons = append(c.Persons, l.Person)
		}
		if !d.Permit {
			l.Status, l.Err = 403, fault.Forbiddenf("%s", d.Reasons[0])
			continue
		}
		if ok, why := p.Permits(d, ask.Caller.Institution, l.Person, ask.Day); !ok {
			l.Status, l.Err = 403, fault.Forbiddenf("%s", why)
			continue
		}
		if _, ok := asked[l.Person]; !ok {
			order = append(order, l.Person)
		}
		asked[l.Person] = append(asked[l.Person], i)
	}
	if len(order) > 0 {
		x.lastAsk.Store(x.now().UnixNano()) // look-ups by identifier: evaluations pace themselves
		recs, err := x.askMany(ctx, ask, d, order, today)
		x.answerLines(&c, asked, recs, err, d.Fields)
	}
	c.count()
	return c
}

func (c *Chunk) count() {
	for _, l := range c.Lines {
		switch l.Status {
		case 200:
			c.Answered++
		case 403:
			c.Refused++
		default:
			c.Other++
		}
	}
}

// askMany reads the records of persons from the service's source: at once from a
// BulkSource about today, else one question a person.
func (x *Exchange) askMany(ctx context.Context, ask Ask, d Decision, persons []string, today date.Date) ([]RawRecord, error) {
	src, err := x.sources.Source(ask.Service)
	if err != nil {
		return nil, err
	}
	if bs, ok := src.(BulkSource); ok && ask.Day == today {
		return bs.SearchPersons(ctx, BulkRequest{Service: ask.Service, Persons: persons, Fields: d.Fields, Today: today})
	}
	var out []RawRecord
	for _, pn := range persons {
		q := query.Query{Kind: query.KindID, IDType: "PN", IDValue: pn, Page: 1, PageSize: 1}
		res, err := src.Search(ctx, SourceRequest{Service: ask.Service, Query: q, Fields: d.Fields, Day: ask.Day, Today: today})
		if fault.KindOf(err) == fault.NotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, r := range res.Records {
			person, _ := r["person"].(string)
			b, err := json.Marshal(r)
			if err != nil {
				return nil, fault.Wrap(err, "encode a record")
			}
			out = append(out, RawRecord{Person: person, JSON: b})
		}
		out = append(out, res.Raw...)
	}
	return out, nil
}

// answerLines fills in the lines of the persons asked from the source's records: a
// record about a person not asked is withheld, the others minimised to fields.
func (x *Exchange) answerLines(c *Chunk, asked map[string][]int, recs []RawRecord, err error, fields []string) {
	if err != nil {
		f := failed(Answer{}, err)
		for _, lines := range asked {
			for _, i := range lines {
				c.Lines[i].Status, c.Lines[i].Err = f.Status, f.Err
			}
		}
		return
	}
	min := NewMinimiser(fields)
	buf := make([]byte, 0, 256*len(recs))
	for _, r := range recs {
		lines, ok := asked[r.Person]
		if !ok || c.Lines[lines[0]].Status != 0 {
			c.Withheld++ // about someone not asked, or a second record of one
			continue
		}
		start := len(buf)
		buf, ok = min.Append(buf, r.JSON)
		m := json.RawMessage(buf[start:len(buf):len(buf)])
		for _, i := range lines {
			if !ok {
				c.Lines[i].Status, c.Lines[i].Err = 502, fault.Unavailablef(nil, "the source answered a record that is not a JSON object")
				continue
			}
			c.Lines[i].Status, c.Lines[i].Record = 200, m
		}
	}
	for _, lines := range asked {
		for _, i := range lines {
			if c.Lines[i].Status == 0 {
				c.Lines[i].Status, c.Lines[i].Err = 404, fault.NotFoundf("no such person in the source")
			}
		}
	}
}

// SealChunk records a chunk in the audit log, as one record naming each of its persons,
// before any of its lines is sent: request, the chunk's lines as read; linesRoot, the
// Merkle root of its answer lines (the record's response hash, its Lines their number).
// If it cannot be recorded, none of its lines may be sent.
func (x *Exchange) SealChunk(ctx context.Context, ask Ask, c Chunk, request []byte, linesRoot [32]byte) (int64, error) {
	if len(c.Persons) > MaxAuditPersons {
		return 0, fault.Invalidf("persons", "a chunk names at most %d persons", MaxAuditPersons)
	}
	d := c.Decision
	e := Entry{Time: x.now().UTC(), Client: ask.Caller.ClientID, Institution: ask.Caller.Institution,
		Service: ask.Service, Purpose: ask.Purpose, Persons: c.Persons, Fields: d.Fields,
		Decision: "deny", Authorization: d.Authorization, Outcome: c.outcome(), Status: 200,
		RequestHash: sha256.Sum256(request), ResponseHash: linesRoot, Lines: len(c.Lines)}
	if d.Permit {
		e.Decision = "permit"
	}
	if c.Answered == 0 && c.Refused == len(c.Lines) {
		e.Status = 403
	}
	e.Reasons = append(append(e.Reasons, d.Reasons...), "a batch chunk of "+strconv.Itoa(len(c.Lines))+" lines: "+
		strconv.Itoa(c.Answered)+" answered, "+strconv.Itoa(c.Refused)+" refused, "+strconv.Itoa(c.Other)+" other"+withheld(c.Withheld)+
		"; each line's outcome is in its answer line, bound by response_hash, the Merkle root of the lines")
	if !c.Start.IsZero() {
		e.Latency = x.now().Sub(c.Start)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), SealTimeout)
	defer cancel()
	seq, err := x.recorder.Record(ctx, bounded(e))
	if err != nil {
		return 0, fault.Unavailablef(err, "the exchange could not be recorded in the audit log, so it was refused")
	}
	return seq, nil
}

func withheld(n int) string {
	if n == 0 {
		return ""
	}
	return " (" + strconv.Itoa(n) + " record(s) withheld: about persons not asked)"
}

// outcome of a chunk: its lines' when they agree, else "mixed".
func (c Chunk) outcome() string {
	switch {
	case c.Answered == len(c.Lines):
		return "answered"
	case c.Refused == len(c.Lines):
		return "refused"
	case c.Answered == 0 && c.Refused == 0 && len(c.Lines) > 0:
		return outcome(Answer{Decision: c.Decision, Err: c.Lines[0].Err})
	}
	return "mixed"
}
