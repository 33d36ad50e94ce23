package attack_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/synth"
)

// An identifier that is not a person number is checked on what the registry finds: the
// registry's "no record" is answered when it found no one (a disability-registry member
// id of the asker's own pensioner, which the registry does not hold) and, alike, when
// it found someone the asker has no file on — not a refusal giving a wrong reason (#13,
// F5), and nothing that tells the two apart.
func TestUnknownIdentifierIsTheRegistrysNotFound(t *testing.T) {
	tg := start(t, nil)
	tok := tg.token(t, synth.PensionFund)
	own := tg.visible(t, synth.PensionFund, synth.CapacityPensioner)[0]
	stranger := tg.stranger(t, synth.PensionFund)
	p, err := tg.st.Civil.Population().Person(context.Background(), stranger)
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]string{}
	for _, c := range []struct{ name, criteria string }{
		{"own pensioner's member id, not in the registry", byID("UIN", "DR-MEMBER-"+own)},
		{"member id of no one", byID("UIN", "DR-MEMBER-999")},
		{"BRN of someone else", byID("BRN", p.BRN)},
		{"BRN of no one", byID("BRN", p.BRN+"9")},
	} {
		status, _, body := tg.dci(t, tok, search{registry: "dr", criteria: c.criteria})
		a := decodeAnswer(t, body)
		if status != http.StatusOK || len(a.Message.SearchResponse) != 1 || len(a.records(t)) != 0 || strings.Contains(string(body), "person directory") {
			t.Errorf("%s: %d %s; want 200 and no record", c.name, status, clip(body))
		}
		answers[c.name] = errorsOf(t, body)
	}
	first := answers["member id of no one"]
	for name, a := range answers {
		if a != first {
			t.Errorf("%s answers %s; member id of no one %s: want the same", name, a, first)
		}
	}
	// The attempt about someone else is still found by that person.
	recs := tg.auditByPerson(t, stranger)
	found := false
	for _, r := range recs {
		found = found || r["institution"] == synth.PensionFund
	}
	if !found {
		t.Errorf("the look-up of %s by BRN is not among that person's exchanges: %v", stranger, recs)
	}
}
