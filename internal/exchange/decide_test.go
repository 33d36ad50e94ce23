package exchange

import (
	"fmt"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

var day = date.Of(2026, 6, 1)

func testPolicy(t testing.TB) *Policy {
	t.Helper()
	x := directory.NewIndex()
	x.Add(directory.Integration{Person: "85073003328", Institution: "PENSION-FUND", Capacity: "001", Begin: date.Of(2020, 1, 1)})
	x.Add(directory.Integration{Person: "85073003328", Institution: "CITY-R01", Capacity: "000", Begin: date.Of(2020, 1, 1), End: date.Of(2025, 12, 31)})
	auths := []directory.Authorization{
		{ID: "A-2", Institution: "PENSION-FUND", Service: "civil-person", Fields: []string{"given_name", "family_name", "death_date"},
			Purpose: "Pension payment", Capacities: []string{"001"}, ValidFrom: date.Of(2019, 1, 1), Decision: "D 19/1"},
		{ID: "A-1", Institution: "PENSION-FUND", Service: "civil-person", Fields: []string{"given_name"},
			Purpose: "Old pilot", Capacities: []string{"001"}, ValidFrom: date.Of(2015, 1, 1), ValidTo: date.Of(2016, 1, 1), Decision: "D 15/1"},
		{ID: "A-3", Institution: "CITY-R01", Service: "civil-person", Fields: []string{"given_name", "address.street"},
			Purpose: "Population", Capacities: []string{"000"}, ValidFrom: date.Of(2019, 1, 1), Decision: "D 19/3", LookbackDays: 366},
		{ID: "A-4", Institution: "TAX-OFFICE", Service: "civil-person", Fields: []string{"given_name"},
			Purpose: "Tax", Capacities: []string{"000"}, ValidFrom: date.Of(2017, 1, 1), ValidTo: date.Of(2024, 12, 31), Decision: "D 17/7"},
	}
	return NewPolicy(auths, x)
}

func TestDecide(t *testing.T) {
	p := testPolicy(t)
	tests := []struct {
		q      Question
		permit bool
		code   string
		auth   string
		fields []string
	}{
		{Question{Institution: "PENSION-FUND", Service: "civil-person", Day: day}, true, "", "A-2", []string{"given_name", "family_name", "death_date"}},
		{Question{Institution: "PENSION-FUND", Service: "civil-person", Day: day, Fields: []string{"death_date"}}, true, "", "A-2", []string{"death_date"}},
		{Question{Institution: "PENSION-FUND", Service: "civil-person", Day: day, Purpose: "pension payment"}, true, "", "A-2", nil},
		{Question{Institution: "PENSION-FUND", Service: "civil-person", Day: day, Purpose: "A-2"}, true, "", "A-2", nil},
		{Question{Institution: "PENSION-FUND", Service: "civil-person", Day: day, Purpose: "marketing"}, false, DenyPurpose, "", nil},
		{Question{Institution: "PENSION-FUND", Service: "civil-person", Day: day, Fields: []string{"address.street"}}, false, DenyFields, "", nil},
		{Question{Institution: "PENSION-FUND", Service: "civil-person", Day: date.Of(2015, 6, 1)}, true, "", "A-1", []string{"given_name"}},
		{Question{Institution: "PENSION-FUND", Service: "civil-person", Day: date.Of(2010, 6, 1)}, false, DenyExpired, "", nil},
		{Question{Institution: "TAX-OFFICE", Service: "civil-person", Day: day}, false, DenyExpired, "", nil},
		{Question{Institution: "MUSEUM", Service: "civil-person", Day: day}, false, DenyNoAuthorization, "", nil},
		{Question{Institution: "PENSION-FUND", Service: "other", Day: day}, false, DenyNoAuthorization, "", nil},
		// Asked today about another day: in force today, and no further back than allowed.
		{Question{Institution: "PENSION-FUND", Service: "civil-person", Today: day, Day: date.Of(2015, 6, 1)}, false, DenyDay, "", nil},
		{Question{Institution: "PENSION-FUND", Service: "civil-person", Today: day, Day: day.AddDays(-1)}, false, DenyDay, "", nil},
		{Question{Institution: "PENSION-FUND", Service: "civil-person", Today: day, Day: day.AddDays(1)}, false, DenyDay, "", nil},
		{Question{Institution: "CITY-R01", Service: "civil-person", Today: day, Day: day.AddDays(-366)}, true, "", "A-3", nil},
		{Question{Institution: "CITY-R01", Service: "civil-person", Today: day, Day: day.AddDays(-367)}, false, DenyDay, "", nil},
		{Question{Institution: "TAX-OFFICE", Service: "civil-person", Today: day, Day: date.Of(2024, 6, 1)}, false, DenyExpired, "", nil},
	}
	for _, tt := range tests {
		d := p.Decide(tt.q)
		if d.Permit != tt.permit || d.Code != tt.code || d.Authorization != tt.auth || (tt.fields != nil && !slices.Equal(d.Fields, tt.fields)) || len(d.Reasons) == 0 {
			t.Errorf("Decide(%+v) = %+v; want permit %v code %q auth %q fields %v, with a reason", tt.q, d, tt.permit, tt.code, tt.auth, tt.fields)
		}
	}
}

func TestPermits(t *testing.T) {
	p := testPolicy(t)
	pension := p.Decide(Question{Institution: "PENSION-FUND", Service: "civil-person", Day: day})
	city := p.Decide(Question{Institution: "CITY-R01", Service: "civil-person", Day: day})
	tests := []struct {
		d                   Decision
		institution, person string
		day                 date.Date
		want                bool
	}{
		{pension, "PENSION-FUND", "85073003328", day, true},
		{pension, "PENSION-FUND", "01010100225", day, false},                 // no file
		{pension, "PENSION-FUND", "85073003328", date.Of(2019, 1, 1), false}, // before the file
		{city, "CITY-R01", "85073003328", day, false},                        // file ended 2025
		{city, "CITY-R01", "85073003328", date.Of(2024, 1, 1), true},
		{pension, "CITY-R01", "85073003328", day, false}, // capacity 001 is the pension fund's, not the city's
	}
	for _, tt := range tests {
		ok, why := p.Permits(tt.d, tt.institution, tt.person, tt.day)
		if ok != tt.want || why == "" {
			t.Errorf("Permits(%s, %s, %s) = %v %q; want %v", tt.d.Authorization, tt.institution, tt.person, ok, why, tt.want)
		}
	}
}

// BenchmarkDecision measures a whole decision (authorization and person check) with
// 10,000 authorizations and 1,000,000 person-directory entries loaded, and reports p99.
func BenchmarkDecision(b *testing.B) {
	const insts, persons = 500, 1_000_000
	var auths []directory.Authorization
	for i := range 10_000 {
		auths = append(auths, directory.Authorization{ID: fmt.Sprintf("A-%05d", i), Institution: fmt.Sprintf("I%03d", i%insts),
			Service: fmt.Sprintf("S%02d", i/insts), Fields: []string{"given_name", "family_name", "birth_date", "address.street"},
			Purpose: "p", Capacities: []string{"000", "001"}, ValidFrom: date.Of(2019, 1, 1), Decision: "d"})
	}
	x := directory.NewIndex()
	// The person numbers live in one byte slab, so the benchmark's own data gives the
	// garbage collector nothing to scan and does not distort the latencies measured.
	slab := make([]byte, 0, persons*11)
	for i := range persons {
		n, err := ident.MakePerson(1930+i%90, 1+i%12, 1+i%28, 1+i%997, ident.Register)
		if err != nil {
			b.Fatal(err)
		}
		slab = append(slab, n.String()...)
		x.Add(directory.Integration{Person: n.String(), Institution: fmt.Sprintf("I%03d", i%insts), Capacity: "001", Begin: date.Of(2020, 1, 1)})
	}
	number := func(i int) string { return unsafe.String(&slab[i*11], 11) }
	p := NewPolicy(auths, x)
	names := make([]string, insts)
	for i := range names {
		names[i] = fmt.Sprintf("I%03d", i)
	}
	lat := make([]time.Duration, 0, 1<<20)
	permitted := 0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		d := p.Decide(Question{Institution: names[i%insts], Service: "S03", Fields: []string{"birth_date"}, Day: day})
		ok, _ := p.Permits(d, names[i%insts], number(i%persons), day)
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(start))
		}
		if ok {
			permitted++
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1000, "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1000, "p99-µs")
	}
	if permitted == 0 {
		b.Fatal("no decision permitted")
	}
}
