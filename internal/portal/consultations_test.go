package portal

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/exchange"
)

// records is an audit log holding fixed records (all about the person asked).
type records []audit.Record

func (r records) ByPerson(context.Context, string, int64, int) ([]audit.Record, error) { return r, nil }
func (r records) Evidence(context.Context, int64) (audit.Evidence, error) {
	return audit.Evidence{}, nil
}

type noExchange struct{}

func (noExchange) SearchSelf(context.Context, exchange.Ask, string) exchange.Answer {
	return exchange.Answer{}
}
func (noExchange) Seal(context.Context, exchange.Ask, exchange.Answer, []byte) (int64, error) {
	return 0, nil
}

type noKeys struct{}

func (noKeys) SignJWS(string, []byte) (string, error) { return "", nil }
func (noKeys) PublicJWKS() jose.JSONWebKeySet         { return jose.JSONWebKeySet{} }

// A record about many persons (a payment programme's reconciliation, a batch) is listed
// to each of them without its outcome, which counts them all: one citizen does not
// read the others' figures. A record about them alone keeps its outcome.
func TestConsultationsOfManyPersons(t *testing.T) {
	const me, other = "00012700297", "00010500278"
	at := time.Date(2026, 12, 8, 0, 30, 0, 0, time.UTC)
	log := records{
		{Seq: 7, Time: at, Institution: "PENSION-FUND", Service: "g2p.reconcile", Purpose: "old-age-pension 2026-12", Persons: []string{me, other},
			Decision: audit.Permit, Outcome: "paid 2 returned 0 missing 22 unexpected 0 duplicate 0 amended 0"},
		{Seq: 8, Time: at, Institution: "MUSEUM", Service: "portal-proof", Purpose: "check", Persons: []string{me},
			Decision: audit.Permit, Outcome: "answered"},
	}
	p, err := New(Config{Exchange: noExchange{}, Audit: log, Keys: noKeys{}})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	if err := p.consultations(w, httptest.NewRequest("GET", "/portal/consultations", nil), &session{Person: me}, "en"); err != nil {
		t.Fatal(err)
	}
	page := w.Body.String()
	for _, figure := range []string{"paid 2", "missing 22", other} {
		if strings.Contains(page, figure) {
			t.Errorf("a citizen reads %q of a record about many persons", figure)
		}
	}
	if !strings.Contains(page, "g2p.reconcile") || !strings.Contains(page, T("en", "cons.shared.outcome")) {
		t.Errorf("the record about many persons is not listed, saying its outcome is theirs all: %.3000s", page)
	}
	if !strings.Contains(page, "(answered)") {
		t.Errorf("the record about the citizen alone lost its outcome: %.3000s", page)
	}
}
