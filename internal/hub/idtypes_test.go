package hub_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/civil"
	"github.com/crossroads-hub/crossroads/internal/derived"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// TestIdentifierTypeAliases: every identifier type a built-in registry lists (the names
// other registries use for a person number, a birth registration number, a farmer) finds
// the person through the hub; a look-up by a person-number alias of a person the asker
// has no file on is refused (403), as one by PN is.
func TestIdentifierTypeAliases(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	pop := r.st.Civil.Population()
	fixture, err := pop.Person(ctx, synth.FixtureNumber)
	if err != nil {
		t.Fatal(err)
	}
	pensioners, err := r.st.Directory.Store().Integrations(ctx, directory.IntegrationQuery{Institution: synth.PensionFund, Day: r.st.Directory.Today(), Limit: 1})
	if err != nil || len(pensioners) == 0 {
		t.Fatalf("no pensioner: %v", err)
	}
	pensioner, err := pop.Person(ctx, pensioners[0].Person)
	if err != nil {
		t.Fatal(err)
	}
	registries := []struct {
		code, kind, asker string
		person            string // the asker has a file on them
		brn               string
		idTypes           []string
		stranger          string // an institution with an authorization and no file on person
	}{
		{"crvs", "civil", synth.HealthInsurer1, fixture.Number, fixture.BRN, civil.IDTypes(), synth.PensionFund},
		{"sr", derived.Social, synth.CityPrefix + "R01", fixture.Number, fixture.BRN, derived.IDTypes(derived.Social), ""},
		{"ibr", derived.Beneficiary, synth.PensionFund, pensioner.Number, pensioner.BRN, derived.IDTypes(derived.Beneficiary), ""},
		{"dr", derived.Disability, synth.HealthInsurer1, fixture.Number, fixture.BRN, derived.IDTypes(derived.Disability), ""},
		{"fr", derived.Farmer, synth.HealthInsurer1, fixture.Number, fixture.BRN, derived.IDTypes(derived.Farmer), ""},
	}
	for _, reg := range registries {
		token := r.token(t, reg.asker)
		for _, idType := range reg.idTypes {
			value := reg.person
			switch exchange.IDTypeOf(idType) {
			case exchange.IDBirth:
				value = reg.brn
			case exchange.IDFarmer:
				value = synth.FixtureFarmerID
			}
			status, b := post(t, r.url+"/dci/"+reg.code+"/registry/sync/search", token, lookupBody(reg.code+idType, idType, value))
			if status != 200 || !strings.Contains(string(b), `"person":"`+reg.person+`"`) {
				t.Errorf("%s: look-up by %s %s: %d %.400s; want the person", reg.code, idType, value, status, b)
			}
		}
		if reg.stranger == "" {
			continue
		}
		stranger := r.token(t, reg.stranger)
		for _, idType := range reg.idTypes {
			if k := exchange.IDTypeOf(idType); k != exchange.IDPerson && k != exchange.IDUnique {
				continue
			}
			status, b := post(t, r.url+"/dci/"+reg.code+"/registry/sync/search", stranger, lookupBody(reg.code+"x"+idType, idType, reg.person))
			if status != 403 {
				t.Errorf("%s: %s's look-up by %s of a person it has no file on: %d %.300s; want 403", reg.code, reg.stranger, idType, status, b)
			}
		}
	}
}

func lookupBody(id, idType, value string) string {
	ts := time.Now().UTC().Format(time.RFC3339)
	return fmt.Sprintf(`{"header":{"version":"1.0.0","message_id":"%sl-%s","message_ts":%q,"action":"search","sender_id":"test","total_count":1},`+
		`"message":{"transaction_id":"t-1","search_request":[{"reference_id":"r-1","timestamp":%q,"search_criteria":{"query_type":"idtype-value","query":{"type":%q,"value":%q}},"locale":"eng"}]}}`,
		run, id, ts, ts, idType, value)
}
