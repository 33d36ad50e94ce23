package hub_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci/dcitest"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// TestBuiltinRegistries: the social, beneficiary, disability and farmer registries answer
// through the hub like the civil register: authorized, minimised, valid against their
// own DCI documents, with the fixture identifiers of the conformance suites, naming the
// registry's reg_type (as its document does) and its records' type.
func TestBuiltinRegistries(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	pensioners, err := r.st.Directory.Store().Integrations(ctx, directory.IntegrationQuery{Institution: synth.PensionFund, Day: r.st.Directory.Today(), Limit: 1})
	if err != nil || len(pensioners) == 0 {
		t.Fatalf("no pensioner: %v", err)
	}
	tests := []struct {
		registry, spec, institution, idType, id string
		want, not                               []string
	}{
		{"sr", "social_api_v1.0.0.yaml", synth.CityPrefix + "R01", "UIN", synth.FixtureUIN,
			[]string{`"poverty_score"`, `"members"`, synth.FixtureNumber, `"reg_type":"ns:org:RegistryType:Social"`, `"reg_record_type":"Member"`, `"@type":"Member"`}, []string{"monthly_income"}},
		{"ibr", "ibr_api_v1.0.0.yaml", synth.PensionFund, "PN", pensioners[0].Person,
			[]string{`"old-age-pension"`, `"reg_type":"ns:org:RegistryType:IBR"`, `"reg_record_type":"Beneficiary"`, `"@type":"Beneficiary"`}, nil},
		{"dr", "dr_api_v1.0.0.yaml", synth.HealthInsurer1, "PN", synth.FixtureNumber,
			[]string{`"functional_domains"`, `"walking"`, `"severity"`, `"reg_type":"ns:org:RegistryType:DR"`, `"reg_record_type":"DisabilityInfo"`, `"@type":"DisabilityInfo"`}, nil},
		{"fr", "fr_api_v1.0.0.yaml", synth.HealthInsurer1, "FARMER_ID", synth.FixtureFarmerID,
			[]string{`"farmer_id":"` + synth.FixtureFarmerID + `"`, `"land_area_ha"`, `"reg_type":"ns:org:RegistryType:FR"`, `"reg_record_type":"Farmer"`, `"@type":"Farmer"`}, []string{"crops", "livestock"}},
	}
	for _, tt := range tests {
		ts := time.Now().UTC().Format(time.RFC3339)
		body := fmt.Sprintf(`{"header":{"version":"1.0.0","message_id":"%s%s","message_ts":%q,"action":"search","sender_id":"test","total_count":1},`+
			`"message":{"transaction_id":"t-1","search_request":[{"reference_id":"r-1","timestamp":%q,"search_criteria":{"query_type":"idtype-value","query":{"type":%q,"value":%q}},"locale":"eng"}]}}`,
			run, tt.registry, ts, ts, tt.idType, tt.id)
		status, b := post(t, r.url+"/dci/"+tt.registry+"/registry/sync/search", r.token(t, tt.institution), body)
		if status != 200 {
			t.Errorf("%s: %d %s", tt.registry, status, b)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s: answer lacks %s: %s", tt.registry, w, b)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(string(b), n) {
				t.Errorf("%s: answer carries %s, outside the authorization: %s", tt.registry, n, b)
			}
		}
		dcitest.ValidateResponse(t, dcitest.Spec(t, tt.spec), "/registry/sync/search", status, b)
	}
	// The museum has no authorization on any of them.
	status, _ := post(t, r.url+"/dci/dr/registry/sync/search", r.token(t, synth.Museum), fmt.Sprintf(`{"header":{"version":"1.0.0","message_id":"%sm","message_ts":%q,"action":"search","sender_id":"test","total_count":1},`+
		`"message":{"transaction_id":"t-1","search_request":[{"reference_id":"r-1","timestamp":%q,"search_criteria":{"query_type":"idtype-value","query":{"type":"PN","value":%q}},"locale":"eng"}]}}`,
		run, time.Now().UTC().Format(time.RFC3339), time.Now().UTC().Format(time.RFC3339), synth.FixtureNumber))
	if status != 403 {
		t.Errorf("museum on the disability registry: %d; want 403", status)
	}
}

// TestRegistryCalls: IBR's sync/enrolled and DR's sync/disabled, get-disability-details and
// get-disability-support answer about one person through the exchange, valid against
// their documents.
func TestRegistryCalls(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	pensioners, err := r.st.Directory.Store().Integrations(ctx, directory.IntegrationQuery{Institution: synth.PensionFund, Day: r.st.Directory.Today(), Limit: 1})
	if err != nil || len(pensioners) == 0 {
		t.Fatalf("no pensioner: %v", err)
	}
	ts := time.Now().UTC().Format(time.RFC3339)
	msg := func(id, criteria, query string) string {
		return fmt.Sprintf(`{"header":{"version":"1.0.0","message_id":"%s%s","message_ts":%q,"action":"search","sender_id":"test","total_count":1},"message":{"transaction_id":"t-%s","%s":{"query_type":"idtype-value","query":%s}}}`,
			run, id, ts, id, criteria, query)
	}
	insurer := r.token(t, synth.HealthInsurer1)
	pension := r.token(t, synth.PensionFund)
	fixture := fmt.Sprintf(`{"member.member_identifier":{"eq":%q}}`, synth.FixtureNumber)
	tests := []struct {
		path, spec, token, body string
		status                  int
		want                    []string
	}{
		{"dr/registry/sync/disabled", "dr_api_v1.0.0.yaml", insurer, msg("d1", "disabled_criteria", fixture), 200, []string{`"disabled_status":"`}},
		{"dr/registry/sync/get-disability-details", "dr_api_v1.0.0.yaml", insurer, msg("d2", "disabled_criteria", fixture), 200, []string{`"functional_domains"`}},
		{"dr/registry/sync/get-disability-support", "dr_api_v1.0.0.yaml", insurer, msg("d3", "disabled_criteria", fixture), 200, []string{`"reg_records":[[`}},
		{"ibr/registry/sync/enrolled", "ibr_api_v1.0.0.yaml", pension, msg("i1", "enrolled_criteria",
			fmt.Sprintf(`{"person_identifier":{"eq":%q},"programme_identifier.program.programme_identifier":{"eq":"old-age-pension"}}`, pensioners[0].Person)), 200, []string{`"enrolled_status":"yes"`}},
		{"ibr/registry/sync/enrolled", "ibr_api_v1.0.0.yaml", pension, strings.Replace(msg("i3", "enrolled_criteria",
			fmt.Sprintf(`{"person_identifier":{"eq":%q}}`, pensioners[0].Person)), `"transaction_id"`, `"reference_id":"ref-i3","transaction_id"`, 1), 200,
			[]string{`"reference_id":"ref-i3"`}},
		{"dr/registry/sync/disabled", "dr_api_v1.0.0.yaml", insurer, strings.Replace(msg("d6", "disabled_criteria", fixture), `"query_type"`, `"reference_id":"ref-d6","query_type"`, 1), 200,
			[]string{`"reference_id":"ref-d6"`}},
		{"ibr/registry/sync/enrolled", "ibr_api_v1.0.0.yaml", pension, msg("i2", "enrolled_criteria",
			fmt.Sprintf(`{"person_identifier":{"eq":%q},"programme_identifier.program.programme_identifier":{"eq":"child-benefit"}}`, pensioners[0].Person)), 200, []string{`"enrolled_status":"no"`}},
		{"dr/registry/sync/disabled", "dr_api_v1.0.0.yaml", r.token(t, synth.Museum), msg("d4", "disabled_criteria", fixture), 403, []string{"err.request.forbidden"}},
		{"dr/registry/sync/disabled", "dr_api_v1.0.0.yaml", insurer, msg("d5", "disabled_criteria", `{"colour":{"eq":"blue"}}`), 400, []string{"names no person"}},
	}
	for _, tt := range tests {
		status, b := post(t, r.url+"/dci/"+tt.path, tt.token, tt.body)
		if status != tt.status {
			t.Errorf("%s: %d %s; want %d", tt.path, status, b, tt.status)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s: answer lacks %s: %s", tt.path, w, b)
			}
		}
		dcitest.ValidateResponse(t, dcitest.Spec(t, tt.spec), "/"+strings.SplitN(tt.path, "/", 2)[1], status, b)
	}
}

// TestDisabilityFixture: the disability registry's fixture member, DR-MEMBER-001, as test
// tools ask for it (personal_details.member_identifier eq, the DR samples' form; or a
// look-up by UIN), is disabled, with the details of its difficulties and the support
// they call for; each answer valid against the DR document.
func TestDisabilityFixture(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ts := time.Now().UTC().Format(time.RFC3339)
	msg := func(id string) string {
		return fmt.Sprintf(`{"header":{"version":"1.0.0","message_id":"%sdrf-%s","message_ts":%q,"action":"search","sender_id":"test","total_count":1},"message":{"transaction_id":"t-%s","disabled_criteria":{"query_type":"expression","query":{"personal_details.member_identifier":{"eq":%q}}}}}`,
			run, id, ts, id, synth.FixtureDRMember)
	}
	insurer := r.token(t, synth.HealthInsurer1)
	tests := []struct {
		path, body string
		want       []string
	}{
		{"/registry/sync/disabled", msg("1"), []string{`"disabled_status":"yes"`}},
		{"/registry/sync/get-disability-details", msg("2"), []string{`"functional_domains"`, `"severity":"severe"`, `"walking":"cannot do at all"`, `"disabled":true`}},
		{"/registry/sync/get-disability-support", msg("3"), []string{`"human_assistance"`, `"type":"walking"`, `"type":"self_care"`}},
		{"/registry/sync/search", lookupBody("drf-4", "UIN", synth.FixtureDRMember), []string{`"severity":"severe"`, `"person":"` + synth.FixtureNumber + `"`}},
	}
	for _, tt := range tests {
		status, b := post(t, r.url+"/dci/dr"+tt.path, insurer, tt.body)
		if status != 200 {
			t.Errorf("%s: %d %s", tt.path, status, b)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s: answer lacks %s: %s", tt.path, w, b)
			}
		}
		dcitest.ValidateResponse(t, dcitest.Spec(t, "dr_api_v1.0.0.yaml"), tt.path, status, b)
	}
}
