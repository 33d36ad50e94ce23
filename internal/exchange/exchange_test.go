package exchange

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/query"
)

type fakeSource struct {
	calls   int
	records []map[string]any
	err     error
}

func (s *fakeSource) Search(ctx context.Context, r SourceRequest) (SourceResult, error) {
	s.calls++
	return SourceResult{Records: s.records, Total: len(s.records)}, s.err
}

// scopedSource is a fakeSource that says it searches within a filter's scope (it does
// not: the exchange's own check on every record returned still applies).
type scopedSource struct{ *fakeSource }

func (scopedSource) SearchesInScope() bool { return true }

type oneSource struct{ s Source }

func (o oneSource) Source(service string) (Source, error) {
	if service != "civil-person" {
		return nil, fault.NotFoundf("no service %q", service)
	}
	return o.s, nil
}

type memRecorder struct {
	mu      sync.Mutex
	entries []Entry
	fail    bool
}

func (m *memRecorder) Record(ctx context.Context, e Entry) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return 0, errors.New("disk full")
	}
	m.entries = append(m.entries, e)
	return int64(len(m.entries)), nil
}

func ann() map[string]any {
	return map[string]any{"person": "85073003328", "given_name": "Ann", "family_name": "Lee", "sex": "female", "death_date": nil}
}

func bob() map[string]any {
	return map[string]any{"person": "01010100225", "given_name": "Bob", "family_name": "Ray", "sex": "male"}
}

func newTestExchange(t *testing.T, src *fakeSource, rec *memRecorder) *Exchange {
	return New(testPolicy(t), oneSource{src}, rec, func() time.Time { return day.Time() })
}

func TestSearch(t *testing.T) {
	pension := Caller{ClientID: "pension-app", Institution: "PENSION-FUND"}
	byPN := query.Query{Kind: query.KindID, IDType: "PN", IDValue: "85.07.30-033.28"}
	byBRN := query.Query{Kind: query.KindID, IDType: "BRN", IDValue: "BRN-1"}
	filter := query.Query{Kind: query.KindFilter, Filter: &query.Cond{Op: query.Eq, Attr: "family_name", Value: "Lee"}}
	onSex := query.Query{Kind: query.KindFilter, Filter: &query.Cond{Op: query.Eq, Attr: "sex", Value: "female"}}
	city := Caller{ClientID: "city-app", Institution: "CITY-R01"}
	byName := query.Query{Kind: query.KindFilter, Filter: &query.Cond{Op: query.Eq, Attr: "given_name", Value: "Ann"}}
	bySex := query.Query{Kind: query.KindFilter, Filter: filter.Filter, Sort: []query.SortKey{{Attr: "sex"}}}
	tests := []struct {
		name     string
		ask      Ask
		records  []map[string]any
		status   int
		calls    int
		returned int
		unscoped bool // the source cannot search within a scope
	}{
		{"by person number, in the directory", Ask{Caller: pension, Service: "civil-person", Query: byPN}, []map[string]any{ann()}, 200, 1, 1, false},
		{"by person number, not in the directory", Ask{Caller: pension, Service: "civil-person", Query: query.Query{Kind: query.KindID, IDType: "PN", IDValue: "01010100225"}}, []map[string]any{bob()}, 403, 0, 0, false},
		{"bad person number", Ask{Caller: pension, Service: "civil-person", Query: query.Query{Kind: query.KindID, IDType: "PN", IDValue: "01010100226"}}, nil, 400, 0, 0, false},
		// An identifier that is not a person number: no record the asker may see, the same
		// answer whether the source found someone else or no one.
		{"by BRN, person not in the directory", Ask{Caller: pension, Service: "civil-person", Query: byBRN}, []map[string]any{bob()}, 200, 1, 0, false},
		{"by BRN, nobody", Ask{Caller: pension, Service: "civil-person", Query: byBRN}, nil, 200, 1, 0, false},
		{"filter withholds others", Ask{Caller: pension, Service: "civil-person", Query: filter}, []map[string]any{ann(), bob()}, 200, 1, 1, false},
		{"filter to a source without scopes", Ask{Caller: pension, Service: "civil-person", Query: filter}, []map[string]any{ann(), bob()}, 403, 0, 0, true},
		{"filter on a field not granted", Ask{Caller: pension, Service: "civil-person", Query: onSex}, []map[string]any{ann()}, 403, 0, 0, false},
		{"filter sorted by a field not granted", Ask{Caller: pension, Service: "civil-person", Query: bySex}, []map[string]any{ann()}, 403, 0, 0, false},
		{"filter about a past day", Ask{Caller: city, Service: "civil-person", Query: byName, Day: day.AddDays(-1)}, []map[string]any{ann()}, 400, 0, 0, false},
		{"a file that ended, about a day it covered", Ask{Caller: city, Service: "civil-person", Query: byPN, Day: date.Of(2025, 7, 1)}, []map[string]any{ann()}, 200, 1, 1, false},
		{"a file that ended, about today", Ask{Caller: city, Service: "civil-person", Query: byPN}, []map[string]any{ann()}, 403, 0, 0, false},
		{"by BRN about a past day", Ask{Caller: city, Service: "civil-person", Query: byBRN, Day: day.AddDays(-1)}, []map[string]any{ann()}, 400, 0, 0, false},
		{"by person number about a day not granted", Ask{Caller: pension, Service: "civil-person", Query: byPN, Day: day.AddDays(-1)}, []map[string]any{ann()}, 403, 0, 0, false},
		{"field outside the authorization", Ask{Caller: pension, Service: "civil-person", Query: byPN, Fields: []string{"sex"}}, []map[string]any{ann()}, 403, 0, 0, false},
		{"museum", Ask{Caller: Caller{ClientID: "m", Institution: "MUSEUM"}, Service: "civil-person", Query: byPN}, []map[string]any{ann()}, 403, 0, 0, false},
		{"expired authorization", Ask{Caller: Caller{ClientID: "t", Institution: "TAX-OFFICE"}, Service: "civil-person", Query: byPN}, []map[string]any{ann()}, 403, 0, 0, false},
		{"purpose not granted", Ask{Caller: pension, Service: "civil-person", Query: byPN, Purpose: "marketing"}, []map[string]any{ann()}, 403, 0, 0, false},
	}
	for _, tt := range tests {
		src, rec := &fakeSource{records: tt.records}, &memRecorder{}
		var s Source = scopedSource{src}
		if tt.unscoped {
			s = src
		}
		x := New(testPolicy(t), oneSource{s}, rec, func() time.Time { return day.Time() })
		ans := x.Search(context.Background(), tt.ask)
		if ans.Status != tt.status || src.calls != tt.calls || len(ans.Records) != tt.returned {
			t.Errorf("%s: status %d, source calls %d, records %d (%v); want %d, %d, %d", tt.name, ans.Status, src.calls, len(ans.Records), ans.Err, tt.status, tt.calls, tt.returned)
		}
		for _, r := range ans.Records {
			if _, ok := r["sex"]; ok {
				t.Errorf("%s: answer carries sex, which the authorization does not cover: %v", tt.name, r)
			}
		}
		if _, err := x.Seal(context.Background(), tt.ask, ans, []byte("response")); err != nil || len(rec.entries) != 1 {
			t.Fatalf("%s: Seal = %v with %d entries; want one entry", tt.name, err, len(rec.entries))
		}
		e := rec.entries[0]
		if (e.Decision == "permit") != (tt.status == 200) || len(e.Reasons) == 0 || e.Institution != tt.ask.Caller.Institution {
			t.Errorf("%s: audit entry %+v does not match the outcome", tt.name, e)
		}
		if tt.ask.Query.Kind == query.KindID && tt.ask.Query.IDType == "PN" && tt.status != 400 && len(e.Persons) != 1 {
			t.Errorf("%s: audit entry names persons %v; want the one asked about, whatever the outcome", tt.name, e.Persons)
		}
	}
}

func TestSearchSourceDown(t *testing.T) {
	src, rec := &fakeSource{err: errors.New("connection refused")}, &memRecorder{}
	x := newTestExchange(t, src, rec)
	ans := x.Search(context.Background(), Ask{Caller: Caller{Institution: "PENSION-FUND"}, Service: "civil-person",
		Query: query.Query{Kind: query.KindID, IDType: "PN", IDValue: "85073003328"}})
	if ans.Status != 502 || fault.KindOf(ans.Err) != fault.Unavailable {
		t.Errorf("source down: status %d err %v; want 502 unavailable", ans.Status, ans.Err)
	}
}

func TestSealFailsClosed(t *testing.T) {
	src, rec := &fakeSource{records: []map[string]any{ann()}}, &memRecorder{fail: true}
	x := newTestExchange(t, src, rec)
	ask := Ask{Caller: Caller{Institution: "PENSION-FUND"}, Service: "civil-person", Query: query.Query{Kind: query.KindID, IDType: "PN", IDValue: "85073003328"}}
	ans := x.Search(context.Background(), ask)
	if _, err := x.Seal(context.Background(), ask, ans, []byte("x")); fault.KindOf(err) != fault.Unavailable {
		t.Errorf("Seal with a failing log = %v; want an unavailable fault", err)
	}
}

// TestSealSplitsManyPersons: an exchange naming more persons than a record holds (a
// quarterly file) is recorded as several records, each naming at most MaxAuditPersons,
// every person named once, all with the exchange's hashes; a failing log refuses it.
func TestSealSplitsManyPersons(t *testing.T) {
	persons := make([]string, 2*MaxAuditPersons+500)
	for i := range persons {
		persons[i] = fmt.Sprintf("p%05d", i)
	}
	rec := &memRecorder{}
	x := New(testPolicy(t), nil, rec, nil)
	ask := Ask{Caller: Caller{Institution: "PAYROLL"}, Service: "employment", Purpose: "declaration.quarter", Request: []byte("file")}
	ans := Answer{Status: 201, Persons: persons, Decision: Decision{Permit: true, Reasons: []string{"quarterly file"}}}
	if _, err := x.Seal(context.Background(), ask, ans, []byte("report")); err != nil {
		t.Fatal(err)
	}
	if len(rec.entries) != 3 {
		t.Fatalf("Seal made %d records; want 3", len(rec.entries))
	}
	seen := map[string]int{}
	parts := map[string]bool{}
	for _, e := range rec.entries {
		if len(e.Persons) > MaxAuditPersons || e.RequestHash != rec.entries[0].RequestHash || e.ResponseHash != rec.entries[0].ResponseHash {
			t.Errorf("record of %d persons, hashes %x/%x", len(e.Persons), e.RequestHash[:4], e.ResponseHash[:4])
		}
		if len(e.Reasons) != 2 || e.Reasons[0] != "quarterly file" {
			t.Errorf("reasons %q; want the exchange's and the part", e.Reasons)
		}
		parts[e.Reasons[len(e.Reasons)-1]] = true
		for _, p := range e.Persons {
			seen[p]++
		}
	}
	if len(seen) != len(persons) || !parts["persons, part 1 of 3"] || !parts["persons, part 3 of 3"] {
		t.Errorf("%d persons named of %d; parts %v", len(seen), len(persons), parts)
	}
	for p, n := range seen {
		if n != 1 {
			t.Errorf("%s named %d times", p, n)
		}
	}
	if ans.Decision.Reasons[0] != "quarterly file" || len(ans.Decision.Reasons) != 1 {
		t.Errorf("Seal changed the caller's reasons: %q", ans.Decision.Reasons)
	}
	rec.fail = true
	if _, err := x.Seal(context.Background(), ask, ans, []byte("report")); fault.KindOf(err) != fault.Unavailable {
		t.Errorf("Seal with a failing log = %v; want unavailable", err)
	}
}
