package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// TestCivilChanges: an administrator records a change of address and a death in the
// civil register through POST /admin/civil/events; bad declarations are refused naming
// the field, and a deceased person's record stays closed.
func TestCivilChanges(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	d := r.st.Directory
	page, err := d.Store().Integrations(ctx, directory.IntegrationQuery{Institution: synth.PensionFund, Day: d.Today(), Limit: 1000})
	if err != nil || len(page) < 2 {
		t.Fatalf("pension files: %d, %v", len(page), err)
	}
	// The last pensioners still alive: the test may run again on the same nation (-count).
	pop := r.st.Civil.Population()
	var alive []string
	for i := len(page) - 1; i >= 0 && len(alive) < 2; i-- {
		if p, err := pop.Person(ctx, page[i].Person); err == nil && p.DeathDate.IsZero() && !slices.Contains(alive, p.Number) {
			alive = append(alive, p.Number)
		}
	}
	if len(alive) < 2 {
		t.Fatal("fewer than two living pensioners")
	}
	mover, dying := alive[0], alive[1]
	before, err := pop.Person(ctx, mover)
	if err != nil {
		t.Fatal(err)
	}
	today := d.Today().String()
	addr := fmt.Sprintf(`{"street":"New Street","house_number":"7","postal_code":"9999","municipality":%q,"region":%q}`, before.Address.Municipality, before.Address.Region)
	tests := []struct {
		name, token, body string
		status            int
		want              string
	}{
		{"no token", "", `{"type":"death","person":"` + dying + `","date":"` + today + `"}`, 401, "unauthorized"},
		{"not a person number", r.admin, `{"type":"death","person":"123","date":"` + today + `"}`, 400, `"field": "person"`},
		{"a date in the future", r.admin, `{"type":"death","person":"` + dying + `","date":"2999-01-01"}`, 400, `"field": "date"`},
		{"an unknown type", r.admin, `{"type":"haircut","person":"` + dying + `","date":"` + today + `"}`, 400, `"field": "type"`},
		{"a municipality of another region", r.admin, `{"type":"address","person":"` + mover + `","date":"` + today + `","address":{"street":"S","house_number":"1","postal_code":"1","municipality":"M-NONE","region":"R01"}}`, 400, `"field": "address.municipality"`},
		{"an unknown field", r.admin, `{"type":"death","person":"` + dying + `","date":"` + today + `","cause":"x"}`, 400, "cause"},
		{"a move", r.admin, `{"type":"address","person":"` + mover + `","date":"` + today + `","address":` + addr + `}`, 201, `"type": "address"`},
		{"a death", r.admin, `{"type":"death","person":"` + dying + `","date":"` + today + `"}`, 201, `"type": "death"`},
		{"a second death", r.admin, `{"type":"death","person":"` + dying + `","date":"` + today + `"}`, 409, "the record is closed"},
	}
	for _, tt := range tests {
		status, b := post(t, r.url+"/admin/civil/events", tt.token, tt.body)
		if status != tt.status || !strings.Contains(string(b), tt.want) {
			t.Errorf("%s: %d %s; want %d with %s", tt.name, status, b, tt.status, tt.want)
		}
		if status == 201 {
			var ev population.Event
			if json.Unmarshal(b, &ev) != nil || ev.Seq == 0 {
				t.Errorf("%s: the answer is not the recorded event: %s", tt.name, b)
			}
		}
	}
	nobody, _ := ident.MakePerson(1905, 2, 3, 997, ident.Register) // not in the register
	births := []struct {
		name, body string
		status     int
		want       string
	}{
		{"no parent", `{"date":"` + today + `","given_name":"A","family_name":"B","sex":"male"}`, 400, `"field": "mother"`},
		{"an unknown mother", `{"date":"` + today + `","given_name":"A","family_name":"B","sex":"male","mother":"` + nobody.String() + `"}`, 400, `"field": "mother"`},
		{"no sex", `{"date":"` + today + `","given_name":"A","family_name":"B","mother":"` + mover + `"}`, 400, `"field": "sex"`},
		{"no name", `{"date":"` + today + `","given_name":" ","family_name":"B","sex":"male","mother":"` + mover + `"}`, 400, `"field": "given_name"`},
		{"a future birth", `{"date":"2999-01-01","given_name":"A","family_name":"B","sex":"male","mother":"` + mover + `"}`, 400, `"field": "date"`},
		{"a father born after the child", `{"date":"1900-01-01","given_name":"A","family_name":"B","sex":"male","father":"` + mover + `"}`, 400, `"field": "father"`},
		{"a birth", `{"date":"` + today + `","given_name":"Ada","family_name":"B","sex":"female","mother":"` + mover + `"}`, 201, `"type": "birth"`},
	}
	for _, tt := range births {
		status, b := post(t, r.url+"/admin/civil/births", r.admin, tt.body)
		if status != tt.status || !strings.Contains(string(b), tt.want) {
			t.Errorf("%s: %d %s; want %d with %s", tt.name, status, b, tt.status, tt.want)
		}
	}
	// A marriage and a divorce: two single adults, both changed by one event.
	var singles []string
	all, _ := pop.Persons(ctx, population.Query{Limit: 5000})
	for _, p := range all {
		if p.MaritalStatus == population.Single && p.DeathDate.IsZero() && p.BirthDate.Year() < 2005 && p.Number != mover && p.Number != dying {
			singles = append(singles, p.Number)
		}
	}
	if len(singles) < 2 {
		t.Fatalf("%d single adults in the test nation", len(singles))
	}
	a, b := singles[0], singles[1]
	couple := func(typ, spouse string) string {
		return `{"type":"` + typ + `","person":"` + a + `","date":"` + today + `","spouse":"` + spouse + `"}`
	}
	for _, tt := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"a divorce of the unmarried", couple("divorce", b), 409, `"field": "spouse"`},
		{"a marriage to oneself", couple("marriage", a), 400, `"field": "spouse"`},
		{"a marriage without spouse", `{"type":"marriage","person":"` + a + `","date":"` + today + `"}`, 400, `"field": "spouse"`},
		{"a spouse in a move", `{"type":"address","person":"` + a + `","date":"` + today + `","spouse":"` + b + `","address":` + addr + `}`, 400, `"field": "spouse"`},
		{"a marriage to the deceased", couple("marriage", dying), 409, `"field": "spouse"`},
		{"a marriage", couple("marriage", b), 201, `"type": "marriage"`},
		{"a second marriage", couple("marriage", singles[len(singles)-1]), 409, "is married"},
		{"a divorce", couple("divorce", b), 201, `"type": "divorce"`},
	} {
		status, body := post(t, r.url+"/admin/civil/events", r.admin, tt.body)
		if status != tt.status || !strings.Contains(string(body), tt.want) {
			t.Errorf("%s: %d %s; want %d with %s", tt.name, status, body, tt.status, tt.want)
		}
	}
	pa, _ := pop.Person(ctx, a)
	pb, _ := pop.Person(ctx, b)
	if pa.MaritalStatus != population.Divorced || pb.MaritalStatus != population.Divorced || pa.Spouse != "" || pb.Spouse != "" {
		t.Errorf("after a marriage and a divorce: %s %q, %s %q", pa.MaritalStatus, pa.Spouse, pb.MaritalStatus, pb.Spouse)
	}
	after, _ := pop.Person(ctx, mover)
	if after.Address.Street != "New Street" || after.Address.HouseNumber != "7" {
		t.Errorf("the move was not recorded: %+v", after.Address)
	}
	if dead, _ := pop.Person(ctx, dying); dead.DeathDate.String() != today {
		t.Errorf("the death was not recorded: death date %s", dead.DeathDate)
	}
}
