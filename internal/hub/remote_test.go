package hub_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/dci/dcitest"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/synth"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// farmerRegistry is an independent DCI registry, as another country system would run
// one: it knows one farmer, and answers only callers presenting a token the hub signed
// for it, which it checks against the hub's published keys.
type farmerRegistry struct {
	hubJWKS string
	asked   atomic.Int64
}

func (f *farmerRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/dci/fr/registry/sync/search" {
		http.NotFound(w, r)
		return
	}
	if err := f.checkToken(r); err != nil {
		http.Error(w, `{"errors":[{"code":"err.request.unauthorized","message":"`+err.Error()+`"}]}`, http.StatusUnauthorized)
		return
	}
	body, _ := io.ReadAll(r.Body)
	env, err := dci.DecodeSearch(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.asked.Add(1)
	outs := make([]dci.Outcome, len(env.Message.SearchRequest))
	for i, it := range env.Message.SearchRequest {
		if it.Err != nil {
			outs[i].Err = it.Err
			continue
		}
		if q := it.Query; q.IDType == "FARMER_ID" && q.IDValue == "FARMER-TEST-001" {
			outs[i] = dci.Outcome{Total: 1, Records: []any{map[string]any{"@type": "Farmer", "farmer_id": "FARMER-TEST-001",
				"given_name": "Ada", "family_name": "Field", "land_area_ha": 12.5, "crops": []string{"maize", "beans"}}}}
		}
	}
	resp, err := dci.NewSearchResponse(env, dci.Reply{MessageID: "fr-1", CorrelationID: "fr-c1", SenderID: "farmers.example",
		RegType: "ns:org:RegistryType:Farmer", RecordType: "Farmer", Now: time.Now()}, outs)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

// checkToken verifies the hub's source token: signed by a key of the hub's JWKS, for
// this registry's audience, not expired.
func (f *farmerRegistry) checkToken(r *http.Request) error {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return errString("no token")
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return err
	}
	resp, err := http.Get(f.hubJWKS)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return err
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) == 0 {
		return errString("unknown key")
	}
	payload, err := jws.Verify(keys[0].Key.(ed25519.PublicKey))
	if err != nil {
		return err
	}
	var c struct {
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
	}
	if json.Unmarshal(payload, &c) != nil || c.Aud != "source:remote-farmers" || time.Now().Unix() > c.Exp {
		return errString("token not for this registry")
	}
	return nil
}

type errString string

func (e errString) Error() string { return string(e) }

// TestRemoteSource: the hub fronts a DCI registry that runs elsewhere, sync and async,
// with the same authorization, minimisation and audit as for its built-in sources.
func TestRemoteSource(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	remote := &farmerRegistry{hubJWKS: r.url + "/.well-known/jwks.json"}
	srv := httptest.NewServer(remote)
	defer srv.Close()
	enterprise, _ := ident.MakeEnterprise(4_242_424)
	today := r.st.Directory.Today()
	requester := synth.HealthInsurer1
	for _, rec := range []any{
		directory.Institution{Code: "REMOTE-FARMERS", Name: "National farmer registry", Sector: "agriculture", Kind: "authentic_source", Enterprise: enterprise.String()},
		directory.Service{ID: "remote-farmers", Institution: "REMOTE-FARMERS", Registry: "farmer", Name: "Farmers",
			Fields: []string{"farmer_id", "given_name", "family_name", "land_area_ha", "crops"}, Endpoint: srv.URL + "/dci/fr"},
		directory.Authorization{ID: "auth-remote-farmers", Institution: requester, Service: "remote-farmers",
			Fields: []string{"farmer_id", "given_name", "family_name"}, Purpose: "health-insurance", LegalBasis: "test",
			ValidFrom: today.AddDays(-1), Decision: "test"},
	} {
		var err error
		switch v := rec.(type) {
		case directory.Institution:
			_, _, err = directory.Put(ctx, r.st.Directory, "test", v, directory.AnyVersion)
		case directory.Service:
			_, _, err = directory.Put(ctx, r.st.Directory, "test", v, directory.AnyVersion)
		case directory.Authorization:
			_, _, err = directory.Put(ctx, r.st.Directory, "test", v, directory.AnyVersion)
		}
		if err != nil {
			t.Fatalf("put %T: %v", rec, err)
		}
	}
	t.Cleanup(func() { // the nation is shared: later tests must not route the farmer registry here
		_ = directory.Delete[directory.Authorization](ctx, r.st.Directory, "test", "auth-remote-farmers")
		_ = directory.Delete[directory.Service](ctx, r.st.Directory, "test", "remote-farmers")
	})
	rc := &receiver{arrived: make(chan struct{}, 4)}
	partner := httptest.NewServer(rc)
	defer partner.Close()
	r.setCallbacks(t, requester, []string{partner.URL + "/"})
	probes := 0
	waitFor(t, "the hub to pick up the new service", func() bool {
		probes++ // each probe is a new message: a repeated one would be refused
		status, body := post(t, r.url+"/dci/fr/registry/sync/search", r.token(t, requester), farmerSearch(fmt.Sprint("probe-", probes), "tp", ""))
		return status == 200 && strings.Contains(string(body), "FARMER-TEST-001")
	})
	token := r.token(t, requester)
	spec := dcitest.Spec(t, "fr_api_v1.0.0.yaml")

	before := r.auditSize(t)
	status, body := post(t, r.url+"/dci/fr/registry/sync/search", token, farmerSearch("fs-1", "ft-1", ""))
	if status != 200 || !strings.Contains(string(body), `"Ada"`) {
		t.Fatalf("sync search of the remote registry: %d %s", status, body)
	}
	if strings.Contains(string(body), "land_area_ha") || strings.Contains(string(body), "maize") {
		t.Errorf("the answer carries fields outside the authorization: %s", body)
	}
	if !strings.Contains(string(body), `"reg_record_type":"Farmer"`) || !strings.Contains(string(body), `"reg_type":"ns:org:RegistryType:FR"`) {
		t.Errorf("the answer does not keep the remote registry's reg_record_type (Farmer), with the FR document's reg_type: %s", body)
	}
	dcitest.ValidateResponse(t, spec, "/registry/sync/search", status, body)
	if after := r.auditSize(t); after != before+1 {
		t.Errorf("audit log grew by %d; want 1", after-before)
	}
	if status, _ := post(t, r.url+"/dci/fr/registry/sync/search", r.token(t, synth.Museum), farmerSearch("fs-2", "ft-2", "")); status != 403 {
		t.Errorf("an institution without authorization: %d; want 403", status)
	}

	// Async, through the same remote registry.
	status, ack := post(t, r.url+"/dci/fr/registry/search", token, farmerSearch("fa-1", "fat-1", partner.URL+"/on-search"))
	if status != http.StatusAccepted {
		t.Fatalf("async search of the remote registry: %d %s", status, ack)
	}
	cb := rc.next(t)
	dcitest.ValidateRequest(t, spec, "/registry/on-search", cb)
	if !strings.Contains(string(cb), `"Ada"`) || strings.Contains(string(cb), "maize") || !strings.Contains(string(cb), `"reg_record_type":"Farmer"`) {
		t.Errorf("async answer: %s", cb)
	}
	if n := remote.asked.Load(); n < 3 {
		t.Errorf("the remote registry was asked %d times; want the probe, the sync and the async search", n)
	}
}

func farmerSearch(messageID, transactionID, senderURI string) string {
	ts := time.Now().UTC().Format(time.RFC3339)
	uri := ""
	if senderURI != "" {
		uri = `"sender_uri":"` + senderURI + `",`
	}
	return `{"header":{"version":"1.0.0","message_id":"` + run + messageID + `","message_ts":"` + ts + `","action":"search","sender_id":"test","receiver_id":"remote-farmers",` + uri +
		`"total_count":1,"meta":{"purpose":"health-insurance"}},"message":{"transaction_id":"` + run + transactionID + `","search_request":[{"reference_id":"r-1","timestamp":"` + ts +
		`","search_criteria":{"query_type":"idtype-value","query":{"type":"FARMER_ID","value":"FARMER-TEST-001"}},"locale":"eng"}]}}`
}

// waitFor polls cond for up to 10 s; it fails the test naming what it awaited.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.For(t, 10*time.Second, testwait.True(what, cond))
}
