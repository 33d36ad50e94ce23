package employmenttest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// relations puts relations of persons 1..n with Acme (and person 1 with Other) over 2026.
func relations(t *testing.T, st Stores, n int) {
	t.Helper()
	var rels []employment.Relation
	for i := 1; i <= n; i++ {
		rels = append(rels, employment.Relation{Person: Person(i), Employer: Acme, Start: date.Of(2020, 1, 1), End: date.Max,
			Contract: "permanent", Fraction: 1, Sector: "200"})
	}
	rels = append(rels, employment.Relation{Person: Person(1), Employer: Other, Start: date.Of(2026, 1, 1), End: date.Of(2026, 6, 30),
		Contract: "fixed-term", Fraction: 0.5, Sector: "200"})
	if err := st.Employment.PutRelations(context.Background(), rels); err != nil {
		t.Fatalf("PutRelations: %v", err)
	}
}

func line(person, employer, quarter string, wages int, days int, hours, fraction float64) string {
	return fmt.Sprintf(`{"person":%q,"employer":%q,"quarter":%q,"wages":%d,"bonus":0,"days":%d,"hours":%g,"fraction":%g,"contribution":"01"}`,
		person, employer, quarter, wages, days, hours, fraction)
}

func ingest(t *testing.T, src *employment.Source, format, body string, may func(string) error) (employment.File, bool, error) {
	t.Helper()
	return src.Ingest(context.Background(), employment.Import{File: bytes.NewReader([]byte(body)), Format: format, By: PayrollInst, May: may})
}

func sorted(s []string) []string { slices.Sort(s); return s }

func acmeOnly(e string) error { return Mandates(context.Background(), PayrollInst, e) }

// verdicts maps line → "verdict field".
func verdicts(f employment.File) map[int]string {
	out := map[int]string{}
	for _, r := range f.Report {
		out[r.Line] = r.Verdict + " " + r.Field
	}
	return out
}

func testQuarter(t *testing.T, st Stores) {
	ctx := context.Background()
	src := setup(t, st, 3)
	relations(t, st, 5)
	badDigit := Person(2)[:10] + fmt.Sprint((int(Person(2)[10]-'0')+1)%10)
	lines := []string{
		line(Person(1), Acme, "2026Q3", 900000, 64, 480, 1),                  // 1 accepted
		line(Person(2), Acme, "2026Q3", 800000, 60, 450, 0.8),                // 2 accepted, warning: fraction
		line(badDigit, Acme, "2026Q3", 1, 1, 1, 1),                           // 3 bad check digit
		line(Person(7), Acme, "2026Q3", 1, 1, 1, 1),                          // 4 no relation
		line(Person(1), Other, "2026Q3", 1, 1, 1, 0.5),                       // 5 relation ended in Q2; also no mandate
		line(Person(1), Acme, "2026Q3", 1, 1, 1, 1),                          // 6 duplicate of 1
		line(Person(3), Acme, "2026Q3", -5, 1, 1, 1),                         // 7 negative wages
		line(Person(3), Acme, "2026Q3", 5, 92, 2000, 1),                      // 8 hours beyond 12 a day
		line(Person(3), Acme, "2026Q3", 5, 10, 10, 1.5),                      // 9 fraction above 1
		line(Person(3), Acme, "2026Q2", 5, 10, 10, 1),                        // 10 another quarter
		`{"person":"` + Person(4) + `","employer":"` + Acme + `","extra":1}`, // 11 unknown member
		"\xff\xfe" + line(Person(4), Acme, "2026Q3", 5, 10, 10, 1),           // 12 not UTF-8
		line(Person(5), Acme, "2026Q3", 5, 10, 10, 1),                        // 13 accepted
		`{"person":"` + Person(3) + `","employer":"` + Acme + `","quar`,      // 14 truncated
	}
	body := strings.Join(lines, "\n")
	f, again, err := ingest(t, src, employment.JSONLines, body, acmeOnly)
	if err != nil || again {
		t.Fatalf("Ingest = %v, again %v", err, again)
	}
	if f.Lines != 14 || f.Accepted != 3 || f.Rejected != 11 || f.Warnings != 1 || f.Quarter != 20263 {
		t.Fatalf("file = lines %d accepted %d rejected %d warnings %d quarter %v; want 14 3 11 1 2026Q3\n%+v", f.Lines, f.Accepted, f.Rejected, f.Warnings, f.Quarter, f.Report)
	}
	want := map[int]string{2: "warning fraction", 3: "rejected person", 4: "rejected person", 5: "rejected employer", 6: "rejected person",
		7: "rejected wages", 8: "rejected hours", 9: "rejected fraction", 10: "rejected quarter", 11: "rejected extra", 12: "rejected ", 14: "rejected "}
	got := verdicts(f)
	for l, v := range want {
		if got[l] != v {
			t.Errorf("line %d: %q; want %q (report %+v)", l, got[l], v, f.Report)
		}
	}
	// The file names every worker with a valid number, accepted or not, once each, for
	// its audit records; not the one with a bad check digit (line 11's and 12's
	// persons were not read).
	if want := []string{Person(1), Person(2), Person(3), Person(5), Person(7)}; !slices.Equal(f.Persons, sorted(want)) {
		t.Errorf("file persons = %v; want %v", f.Persons, sorted(want))
	}
	again2, again, err := ingest(t, src, employment.JSONLines, body, acmeOnly)
	if err != nil || !again || again2.ID != f.ID || again2.Accepted != 3 {
		t.Fatalf("second upload = %+v, again %v, %v; want the first report", again2, again, err)
	}
	// A corrective file replaces person 1's line; the first is kept as history.
	corr, _, err := ingest(t, src, employment.JSONLines, line(Person(1), Acme, "2026Q3", 950000, 64, 480, 1)+"\n", acmeOnly)
	if err != nil || corr.Accepted != 1 || corr.Replaced != 1 {
		t.Fatalf("corrective = %+v, %v; want 1 accepted replacing 1", corr, err)
	}
	ws, err := st.Employment.WageLines(ctx, Person(1))
	if err != nil || len(ws) != 2 || !ws[0].Replaced || ws[1].Replaced || ws[1].Wages != 950000 || ws[0].Wages != 900000 {
		t.Fatalf("wage lines = %+v, %v; want the first replaced by the second", ws, err)
	}
	if ws, _ := st.Employment.WageLines(ctx, Person(3)); len(ws) != 0 {
		t.Errorf("rejected lines stored: %+v", ws)
	}
	// The operator may declare for anyone: person 1's line with Other is still refused
	// for want of a relation in 2026Q3.
	op, _, err := ingest(t, src, employment.CSV, "person,employer,quarter,wages,bonus,days,hours,fraction,contribution\n"+
		Person(1)+","+Other+",2026Q3,1,0,1,1,0.5,01\n", employment.Operator)
	if err != nil || op.Rejected != 1 || verdicts(op)[2] != "rejected person" {
		t.Errorf("operator file = %+v, %v; want line 2 rejected for want of a relation", op, err)
	}
}

func testBadFiles(t *testing.T, st Stores) {
	src := setup(t, st, 3)
	relations(t, st, 3)
	head := "person,employer,quarter,wages,bonus,days,hours,fraction,contribution\n"
	row := Person(1) + "," + Acme + ",2026Q3,100,0,10,10,1,01\n"
	for _, c := range []struct{ name, body string }{
		{"missing column", "person,employer,quarter,wages,bonus,days,hours,fraction\n" + Person(1) + "," + Acme + ",2026Q3,1,0,1,1,1\n"},
		{"extra column", strings.TrimSuffix(head, "\n") + ",note\n" + strings.TrimSuffix(row, "\n") + ",x\n"},
		{"empty", ""},
		{"only a header", head},
	} {
		if _, _, err := ingest(t, src, employment.CSV, c.body, employment.Operator); fault.KindOf(err) != fault.Invalid {
			t.Errorf("%s: Ingest = %v; want invalid", c.name, err)
		}
	}
	f, _, err := ingest(t, src, employment.CSV, head+row+Person(2)+","+Acme+",2026Q3,100,0,10", employment.Operator)
	if err != nil || f.Accepted != 1 || verdicts(f)[3] != "rejected " {
		t.Fatalf("truncated last line: %+v, %v; want line 3 rejected, line 2 accepted", f, err)
	}
	if _, _, err := ingest(t, src, "xml", head+row, employment.Operator); fault.KindOf(err) != fault.Invalid {
		t.Errorf("format xml: %v; want invalid", err)
	}
	if ws, _ := st.Employment.WageLines(context.Background(), Person(1)); len(ws) != 1 {
		t.Errorf("refused files stored lines: %+v", ws)
	}
}

// testIncomes: the accepted lines of a file become one income event per worker the
// register holds (not per line), the worker's lines with every employer in force for
// the quarter summed, a corrective line counted instead of the one it replaces; the
// first marks the worker as having registry changes.
func testIncomes(t *testing.T, st Stores) {
	ctx := context.Background()
	src := setup(t, st, 3)
	relations(t, st, 5)
	body := line(Person(1), Acme, "2026Q2", 600000, 60, 450, 1) + "\n" +
		line(Person(2), Acme, "2026Q2", 300000, 60, 450, 1) + "\n" +
		line(Person(5), Acme, "2026Q2", 300000, 60, 450, 1) + "\n" // not in the register
	f, _, err := ingest(t, src, employment.JSONLines, body, employment.Operator)
	if err != nil || f.Accepted != 3 || f.Mutations != 2 {
		t.Fatalf("file = accepted %d mutations %d, %v; want 3 accepted, 2 mutations (person 5 is not in the register)", f.Accepted, f.Mutations, err)
	}
	incomes := func(person string) []string {
		t.Helper()
		evs, err := st.Population.Events(ctx, person)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ev := range evs {
			if ev.Type == employment.EventIncome {
				out = append(out, ev.Date.String()+" "+string(ev.Data))
			}
		}
		return out
	}
	changes := func(person string) int {
		t.Helper()
		p, err := st.Population.Person(ctx, person)
		if err != nil {
			t.Fatal(err)
		}
		return p.RegistryChanges
	}
	if got := incomes(Person(1)); !slices.Equal(got, []string{`2026-04-01 {"monthly_income":2000}`}) || changes(Person(1)) != 1 {
		t.Fatalf("person 1's incomes %q, %d changes; want one of 2000, 1 change", got, changes(Person(1)))
	}
	// The outbox carries each worker as the change left it: with its registry change.
	evs, err := st.Population.EventsAfter(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Type == employment.EventIncome && (ev.After == nil || ev.After.RegistryChanges != 1) {
			t.Errorf("income event %d of %s carries %+v; want the person with 1 registry change", ev.Seq, ev.Person, ev.After)
		}
	}
	// Another employer's line adds up; a corrective line replaces its employer's.
	if f, _, err := ingest(t, src, employment.JSONLines, line(Person(1), Other, "2026Q2", 300000, 30, 220, 0.5)+"\n", employment.Operator); err != nil || f.Mutations != 1 {
		t.Fatalf("second file: %+v, %v", f, err)
	}
	if f, _, err := ingest(t, src, employment.JSONLines, line(Person(1), Acme, "2026Q2", 900000, 60, 450, 1)+"\n", employment.Operator); err != nil || f.Mutations != 1 || f.Replaced != 1 {
		t.Fatalf("corrective file: %+v, %v", f, err)
	}
	want := []string{`2026-04-01 {"monthly_income":2000}`, `2026-04-01 {"monthly_income":3000}`, `2026-04-01 {"monthly_income":4000}`}
	if got := incomes(Person(1)); !slices.Equal(got, want) || changes(Person(1)) != 1 {
		t.Errorf("person 1's incomes %q, %d changes; want %q, 1", got, changes(Person(1)), want)
	}
	if got := incomes(Person(2)); len(got) != 1 || changes(Person(2)) != 1 {
		t.Errorf("person 2's incomes %q, %d changes; want one, 1", got, changes(Person(2)))
	}
}

// testIncomesAsLeft holds the outbox to the person each income event left, whatever is
// written to the person after it and before the outbox reads it: a hire (an immediate
// declaration: the count of registry changes raised), a change recorded (a move, as
// population.Store.Record does it), a marriage naming the worker as the other person
// (RecordCouple), a replacement in bulk (PutPersons); each later change carries
// its own person; an income whose person did not change since reads the person as it is.
func testIncomesAsLeft(t *testing.T, st Stores) {
	ctx := context.Background()
	src := setup(t, st, 4)
	relations(t, st, 4)
	body := line(Person(1), Acme, "2026Q2", 600000, 60, 450, 1) + "\n" + line(Person(2), Acme, "2026Q2", 300000, 60, 450, 1) + "\n" +
		line(Person(3), Acme, "2026Q2", 300000, 60, 450, 1) + "\n" + line(Person(4), Acme, "2026Q2", 300000, 60, 450, 1) + "\n"
	if f, _, err := ingest(t, src, employment.JSONLines, body, employment.Operator); err != nil || f.Mutations != 4 {
		t.Fatalf("file: %+v, %v", f, err)
	}
	if _, err := src.Declare(ctx, OtherInst, hire(Person(2), Other, date.Of(2026, 8, 1))); err != nil {
		t.Fatalf("hire of 2 by Other: %v", err)
	}
	move := func(p *population.Person) error { p.Address.Municipality = "MOVED"; return nil }
	if _, err := st.Population.Record(ctx, population.Event{Type: "move", Person: Person(1), Date: date.Of(2026, 7, 1)}, move); err != nil {
		t.Fatalf("Record(move of 1): %v", err)
	}
	marry := func(p, o *population.Person) error {
		p.MaritalStatus, o.MaritalStatus = "married", "married"
		return nil
	}
	if _, err := st.Population.RecordCouple(ctx, population.Event{Type: "marriage", Person: Person(3), Date: date.Of(2026, 7, 1)}, Person(2), marry); err != nil {
		t.Fatalf("RecordCouple(3 marries 2): %v", err)
	}
	p4, err := st.Population.Person(ctx, Person(4))
	if err != nil {
		t.Fatal(err)
	}
	p4.FamilyName = "Renamed"
	if err := st.Population.PutPersons(ctx, []population.Person{p4}); err != nil {
		t.Fatal(err)
	}
	// A second file: person 1's income after the move carries the moved person.
	if f, _, err := ingest(t, src, employment.JSONLines, line(Person(1), Other, "2026Q2", 300000, 30, 220, 0.5)+"\n", employment.Operator); err != nil || f.Mutations != 1 {
		t.Fatalf("second file: %+v, %v", f, err)
	}
	evs, err := st.Population.EventsAfter(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		if ev.After == nil {
			t.Errorf("event %d (%s of %s) carries no person", ev.Seq, ev.Type, ev.Person)
			continue
		}
		a := ev.After
		got = append(got, fmt.Sprintf("%s %s %s %s %s %d", ev.Type, ev.Person[len(ev.Person)-3:], a.Address.Municipality, a.MaritalStatus, a.FamilyName, a.RegistryChanges))
	}
	p := func(i int) string { return Person(i)[len(Person(i))-3:] }
	want := []string{
		"income " + p(1) + "   Worker 1", "income " + p(2) + "   Worker 1", "income " + p(3) + "   Worker 1", "income " + p(4) + "   Worker 1",
		"employment_start " + p(2) + "   Worker 2", "move " + p(1) + " MOVED  Worker 1", "marriage " + p(3) + "  married Worker 1",
		"income " + p(1) + " MOVED  Worker 1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("the outbox's persons:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
