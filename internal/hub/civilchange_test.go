package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
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
	r := startHub(t, false)
	ctx := context.Background()
	d := r.st.Directory
	page, err := d.Store().Integrations(ctx, directory.IntegrationQuery{Institution: synth.PensionFund, Day: d.Today(), Limit: 1000})
	if err != nil || len(page) < 2 {
		t.Fatalf("pension files: %d, %v", len(page), err)
	}
	mover, dying := page[len(page)-1].Person, page[len(page)-2].Person
	pop := r.st.Civil.Population()
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
	after, _ := pop.Person(ctx, mover)
	if after.Address.Street != "New Street" || after.Address.HouseNumber != "7" {
		t.Errorf("the move was not recorded: %+v", after.Address)
	}
	if dead, _ := pop.Person(ctx, dying); dead.DeathDate.String() != today {
		t.Errorf("the death was not recorded: death date %s", dead.DeathDate)
	}
}
