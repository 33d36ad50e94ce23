package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
)

// bulkSource answers look-ups by person number from its records, one at a time or all
// at once; extra is a record it adds to every bulk answer, about someone not asked.
type bulkSource struct {
	records map[string]map[string]any
	extra   map[string]any
	err     error
	bulk    int // SearchPersons calls
	single  int // Search calls
}

func (s *bulkSource) Search(ctx context.Context, r SourceRequest) (SourceResult, error) {
	s.single++
	if s.err != nil {
		return SourceResult{}, s.err
	}
	if rec, ok := s.records[r.Query.IDValue]; ok {
		return SourceResult{Records: []map[string]any{rec}, Total: 1}, nil
	}
	return SourceResult{Records: []map[string]any{}}, nil
}

func (s *bulkSource) SearchPersons(ctx context.Context, r BulkRequest) ([]RawRecord, error) {
	s.bulk++
	if s.err != nil {
		return nil, s.err
	}
	var out []RawRecord
	for _, p := range r.Persons {
		if rec, ok := s.records[p]; ok {
			b, _ := json.Marshal(rec)
			out = append(out, RawRecord{Person: p, JSON: b})
		}
	}
	if s.extra != nil {
		b, _ := json.Marshal(s.extra)
		out = append(out, RawRecord{Person: s.extra["person"].(string), JSON: b})
	}
	return out, nil
}

// perPerson hides SearchPersons: the exchange must ask one person at a time.
type perPerson struct{ s *bulkSource }

func (p perPerson) Search(ctx context.Context, r SourceRequest) (SourceResult, error) {
	return p.s.Search(ctx, r)
}

func chunkOf(t *testing.T, src Source, caller Caller, d date.Date, persons ...string) (Chunk, *Batch, *memRecorder) {
	t.Helper()
	rec := &memRecorder{}
	x := New(testPolicy(t), oneSource{src}, rec, func() time.Time { return day.Time() })
	ask := Ask{Caller: caller, Service: "civil-person", Day: d}
	b, denied := x.StartBatch(ask)
	if denied.Err != nil {
		t.Fatal(denied.Err)
	}
	c := b.Chunk(context.Background(), ask, persons)
	if _, err := x.SealChunk(context.Background(), ask, c, []byte(strings.Join(persons, "\n")), [32]byte{1}); err != nil {
		t.Fatal(err)
	}
	return c, b, rec
}

func statuses(c Chunk) []int {
	var out []int
	for _, l := range c.Lines {
		out = append(out, l.Status)
	}
	return out
}

// Each line of a chunk is decided on its own before the source is asked: the person
// the asker holds a file on is answered, minimised; the one it holds none on is refused
// and never asked about; a record the source adds about someone not asked is withheld;
// each person is named once in the chunk's one record, refused or not.
func TestChunkDecidesEachLine(t *testing.T) {
	pension := Caller{ClientID: "pension-app", Institution: "PENSION-FUND"}
	mallory := map[string]any{"person": "60010100149", "given_name": "Mallory", "sex": "female"}
	for _, bulk := range []bool{true, false} {
		src := &bulkSource{records: map[string]map[string]any{"85073003328": ann(), "01010100225": bob()}, extra: mallory}
		var s Source = src
		if !bulk {
			s = perPerson{src}
		}
		c, b, rec := chunkOf(t, s, pension, 0, "85.07.30-033.28", "01010100225", "01010100226", "85073003328")
		if want := []int{200, 403, 400, 200}; !slices.Equal(statuses(c), want) {
			t.Fatalf("bulk %v: statuses %v; want %v", bulk, statuses(c), want)
		}
		if (bulk && (src.bulk != 1 || src.single != 0)) || (!bulk && src.single != 1) {
			t.Errorf("bulk %v: source asked %d times at once, %d one by one; want one question for ann alone", bulk, src.bulk, src.single)
		}
		var r map[string]any
		if err := json.Unmarshal(c.Lines[0].Record, &r); err != nil || r["given_name"] != "Ann" || r["sex"] != nil || r["person"] != nil {
			t.Errorf("bulk %v: record %s; want Ann's, minimised to the authorization's fields", bulk, c.Lines[0].Record)
		}
		for _, l := range c.Lines[1:3] {
			if l.Record != nil || l.Err == nil {
				t.Errorf("bulk %v: line %+v; want refused without a record", bulk, l)
			}
		}
		if bulk && c.Withheld != 1 {
			t.Errorf("bulk: %d records withheld; want Mallory's", c.Withheld)
		}
		if !slices.Equal(c.Persons, []string{"85073003328", "01010100225"}) {
			t.Errorf("bulk %v: chunk names %v; want ann and bob, each once", bulk, c.Persons)
		}
		e := rec.entries[0]
		if len(rec.entries) != 1 || e.Lines != 4 || e.Outcome != "mixed" || e.Decision != "permit" || e.ResponseHash != [32]byte{1} ||
			!slices.Equal(e.Persons, c.Persons) || !strings.Contains(strings.Join(e.Reasons, ";"), "2 answered, 1 refused, 1 other") {
			t.Errorf("bulk %v: audit entries %+v; want one for the chunk", bulk, rec.entries)
		}
		if b.spent < 4*BulkItemCost {
			t.Errorf("bulk %v: chunk of 4 lines charged %v; want at least %v", bulk, b.spent, 4*BulkItemCost)
		}
	}
}

// A chunk the policy refuses whatever it asks is refused line by line without a
// question to the source, every person named.
func TestChunkRefusedByPolicy(t *testing.T) {
	src := &bulkSource{records: map[string]map[string]any{"85073003328": ann()}}
	c, _, rec := chunkOf(t, src, Caller{ClientID: "m", Institution: "MUSEUM"}, 0, "85073003328", "01010100225")
	if !slices.Equal(statuses(c), []int{403, 403}) || src.bulk+src.single != 0 {
		t.Errorf("statuses %v, source asked %d times; want two refusals, no question", statuses(c), src.bulk+src.single)
	}
	if e := rec.entries[0]; e.Decision != "deny" || e.Status != 403 || e.Outcome != "refused" || len(e.Persons) != 2 {
		t.Errorf("entry %+v; want one refusal naming both", e)
	}
}

// A question about a past day goes to the source one person at a time (the bulk read is
// about today); a source that fails fails the lines it was asked about, and those alone.
func TestChunkPastDayAndSourceDown(t *testing.T) {
	city := Caller{ClientID: "city-app", Institution: "CITY-R01"}
	src := &bulkSource{records: map[string]map[string]any{"85073003328": ann()}}
	c, _, _ := chunkOf(t, src, city, date.Of(2025, 7, 1), "85073003328", "01010100225")
	if !slices.Equal(statuses(c), []int{200, 403}) || src.bulk != 0 || src.single != 1 {
		t.Errorf("past day: statuses %v, bulk %d, single %d; want [200 403] asked one by one", statuses(c), src.bulk, src.single)
	}
	down := &bulkSource{err: errors.New("disk on fire")}
	c, _, rec := chunkOf(t, down, Caller{ClientID: "pension-app", Institution: "PENSION-FUND"}, 0, "85073003328", "01010100225")
	if !slices.Equal(statuses(c), []int{502, 403}) || rec.entries[0].Outcome != "mixed" {
		t.Errorf("source down: statuses %v, outcome %s; want [502 403], mixed", statuses(c), rec.entries[0].Outcome)
	}
}

// A chunk that cannot be recorded is refused: SealChunk fails and its lines must not go.
func TestSealChunkFailsClosed(t *testing.T) {
	rec := &memRecorder{fail: true}
	x := New(testPolicy(t), oneSource{&bulkSource{}}, rec, func() time.Time { return day.Time() })
	if _, err := x.SealChunk(context.Background(), Ask{}, Chunk{Lines: make([]Line, 1)}, nil, [32]byte{}); err == nil {
		t.Error("SealChunk with a failing recorder succeeded")
	}
	many := Chunk{Persons: make([]string, MaxAuditPersons+1)}
	if _, err := x.SealChunk(context.Background(), Ask{}, many, nil, [32]byte{}); err == nil {
		t.Error("SealChunk of a chunk naming too many persons succeeded")
	}
}

// A chunk that finds no evaluation slot before its request ends is held back line by
// line (503), still naming each person, and charged.
func TestChunkHeldBack(t *testing.T) {
	rec := &memRecorder{}
	src := &bulkSource{records: map[string]map[string]any{"85073003328": ann()}}
	x := New(testPolicy(t), oneSource{src}, rec, func() time.Time { return day.Time() })
	x.SetLimits(Limits{Slots: 1, MaxWait: time.Millisecond})
	ask := Ask{Caller: Caller{ClientID: "pension-app", Institution: "PENSION-FUND"}, Service: "civil-person"}
	b, denied := x.StartBatch(ask)
	if denied.Err != nil {
		t.Fatal(denied.Err)
	}
	x.limiter().slots <- struct{}{} // another's evaluation holds the only slot
	// A chunk waits for a slot while its request lasts (here 20 ms), as a line did.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	c := b.Chunk(ctx, ask, []string{"85073003328", "01010100225"})
	if !slices.Equal(statuses(c), []int{503, 503}) || src.bulk+src.single != 0 || len(c.Persons) != 2 {
		t.Errorf("statuses %v, source asked %d times, persons %v; want both held back, unasked, named", statuses(c), src.bulk+src.single, c.Persons)
	}
	if _, err := x.SealChunk(context.Background(), ask, c, nil, [32]byte{}); err != nil || rec.entries[0].Decision != "deny" {
		t.Errorf("SealChunk: %v, %+v; want a refusal recorded", err, rec.entries)
	}
	if b.spent < 2*BulkItemCost {
		t.Errorf("held-back chunk charged %v; want at least %v", b.spent, 2*BulkItemCost)
	}
}
