package population

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
)

func TestAsOf(t *testing.T) {
	today := date.Of(2026, 6, 1)
	home := Address{Street: "Old Road", HouseNumber: "1", PostalCode: "1000", Municipality: "M1", Region: "R1"}
	flat := Address{Street: "New Street", HouseNumber: "2", PostalCode: "2000", Municipality: "M2", Region: "R1"}
	data := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	ev := func(seq int64, typ, person string, d date.Date, v any) Event {
		return Event{Seq: seq, Type: typ, Person: person, Date: d, Data: data(v)}
	}
	ann := Person{Number: "A", BirthDate: date.Of(1960, 1, 1), Address: flat, Household: "H2", MaritalStatus: Widowed, Spouse: "B", DeathDate: 0}
	events := []Event{
		ev(1, EventAddress, "A", date.Of(1980, 1, 1), home),
		ev(2, EventMarriage, "B", date.Of(1985, 5, 5), map[string]string{"spouse": "A"}), // declared on the spouse
		ev(4, EventAddress, "A", date.Of(2020, 3, 1), flat),
		ev(3, EventHousehold, "A", date.Of(2020, 3, 1), map[string]string{"household": "H2"}),
		ev(5, EventDeath, "B", date.Of(2024, 2, 2), map[string]string{}),
		ev(6, EventMarriage, "C", date.Of(1990, 1, 1), map[string]string{"spouse": "D"}), // someone else's
	}
	tests := []struct {
		day     date.Date
		ok      bool
		addr    Address
		status  string
		spouse  string
		unknown []string
	}{
		{date.Of(1959, 1, 1), false, Address{}, "", "", nil},
		{date.Of(1970, 1, 1), true, Address{}, Single, "", []string{"address", "household"}},
		{date.Of(1984, 1, 1), true, home, Single, "", []string{"household"}},
		{date.Of(2000, 1, 1), true, home, Married, "B", []string{"household"}},
		{date.Of(2020, 3, 1), true, flat, Married, "B", nil},
		{date.Of(2025, 1, 1), true, flat, Widowed, "B", nil},
		{today, true, flat, Widowed, "B", nil},
	}
	for _, tt := range tests {
		got, unknown, ok := AsOf(ann, events, tt.day, today)
		if ok != tt.ok {
			t.Errorf("AsOf(%s) ok = %v; want %v", tt.day, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if !slices.Equal(unknown, tt.unknown) {
			t.Errorf("AsOf(%s) unknown = %v; want %v", tt.day, unknown, tt.unknown)
		}
		if !slices.Contains(unknown, "address") && got.Address != tt.addr {
			t.Errorf("AsOf(%s) address = %v; want %v", tt.day, got.Address, tt.addr)
		}
		if got.MaritalStatus != tt.status || got.Spouse != tt.spouse {
			t.Errorf("AsOf(%s) marital = %s %q; want %s %q", tt.day, got.MaritalStatus, got.Spouse, tt.status, tt.spouse)
		}
	}
}

// A history that does not end at the current record is not trusted for that field.
func TestAsOfUnexplained(t *testing.T) {
	today := date.Of(2026, 6, 1)
	p := Person{Number: "A", BirthDate: date.Of(1960, 1, 1), MaritalStatus: Divorced, DeathDate: date.Of(2026, 1, 1),
		Address: Address{Street: "X"}}
	evs := []Event{{Seq: 1, Type: EventAddress, Person: "A", Date: date.Of(2000, 1, 1), Data: json.RawMessage(`{"street":"Y"}`)}}
	got, unknown, ok := AsOf(p, evs, date.Of(2010, 1, 1), today)
	if !ok || !slices.Equal(unknown, []string{"address", "marital_status", "spouse"}) {
		t.Errorf("AsOf with an unexplained divorce and address: unknown %v, ok %v; want address, marital_status, spouse", unknown, ok)
	}
	if !got.DeathDate.IsZero() {
		t.Errorf("AsOf before the death: death date %s; want none", got.DeathDate)
	}
}
