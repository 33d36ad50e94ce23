package hub_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
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
)

// asyncFarmers is an independent DCI registry that answers only asynchronously: it
// acknowledges registry/search at once and calls the requester back at its sender_uri
// with on-search, signed with its own key and presenting a token of its application at
// the hub, as a remote country system would.
type asyncFarmers struct {
	t      *testing.T
	hub    *running
	spec   string
	key    ed25519.PrivateKey
	asked  atomic.Int64
	called chan error // the outcome of each callback
}

const asyncFarmersCode = "ASYNC-FARMERS"

func (f *asyncFarmers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/dci/fr/registry/search" {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	env, err := dci.DecodeSearch(body)
	if err != nil || env.Header.SenderURI == "" {
		http.Error(w, fmt.Sprintf("not an asynchronous search: %v", err), http.StatusBadRequest)
		return
	}
	dcitest.ValidateRequest(f.t, f.spec, "/registry/search", body)
	f.asked.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	json.NewEncoder(w).Encode(dci.NewAck("af-c1", time.Now()))
	go func() { f.called <- f.callBack(env) }()
}

// callBack sends the on-search of env to its sender_uri.
func (f *asyncFarmers) callBack(env *dci.Envelope[dci.SearchRequest]) error {
	outs := make([]dci.Outcome, len(env.Message.SearchRequest))
	for i, it := range env.Message.SearchRequest {
		outs[i].Err = it.Err
		if q := it.Query; q != nil && q.IDType == "FARMER_ID" && q.IDValue == "FARMER-TEST-002" {
			outs[i] = dci.Outcome{Total: 1, Records: []any{map[string]any{"@type": "Farmer", "farmer_id": "FARMER-TEST-002",
				"given_name": "Bo", "family_name": "Acre", "land_area_ha": 3.5, "crops": []string{"rice"}}}}
		}
	}
	resp, err := dci.NewSearchResponse(env, dci.Reply{MessageID: fmt.Sprint("af-", time.Now().UnixNano()), CorrelationID: "af-c1",
		SenderID: "async-farmers", RegType: "ns:org:RegistryType:Farmer", RecordType: "Farmer", Now: time.Now()}, outs)
	if err != nil {
		return err
	}
	header, _ := json.Marshal(resp.Header)
	message, _ := json.Marshal(resp.Message)
	return f.post(env.Header.SenderURI, header, message, f.key)
}

// post sends a signed callback to the hub with the registry's token.
func (f *asyncFarmers) post(url string, header, message []byte, key ed25519.PrivateKey) error {
	sig, err := dci.SignEd25519(header, message, "async-farmers", "af1", key, time.Now().Add(-time.Second), time.Now().Add(time.Minute))
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]any{"signature": sig, "header": json.RawMessage(header), "message": json.RawMessage(message)})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.hub.tokenWithScope(f.t, asyncFarmersCode, "registry.notify"))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusAccepted {
		return fmt.Errorf("the hub answered %d: %s", res.StatusCode, b)
	}
	return nil
}

// TestAsyncRemoteSource: the hub fronts a DCI registry that answers only asynchronously
// (service mode "async"): it asks registry/search with its own on-search as sender_uri,
// takes the signed callback of that registry's application, and answers its client, sync
// or async, with the same authorization, minimisation and audit. Callbacks that do not
// answer a call of the hub, or are not signed, are refused.
func TestAsyncRemoteSource(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	spec := dcitest.Spec(t, "fr_api_v1.0.0.yaml")
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: pub, KeyID: "af1", Algorithm: "EdDSA", Use: "sig"})
	remote := &asyncFarmers{t: t, hub: r, spec: spec, key: priv, called: make(chan error, 8)}
	srv := httptest.NewServer(remote)
	defer srv.Close()
	enterprise, _ := ident.MakeEnterprise(4_343_434)
	requester := synth.HealthInsurer1
	today := r.st.Directory.Today()
	put := func(v any) {
		t.Helper()
		var err error
		switch v := v.(type) {
		case directory.Institution:
			_, _, err = directory.Put(ctx, r.st.Directory, "test", v, directory.AnyVersion)
		case directory.Application:
			_, _, err = directory.Put(ctx, r.st.Directory, "test", v, directory.AnyVersion)
		case directory.Service:
			_, _, err = directory.Put(ctx, r.st.Directory, "test", v, directory.AnyVersion)
		case directory.Authorization:
			_, _, err = directory.Put(ctx, r.st.Directory, "test", v, directory.AnyVersion)
		}
		if err != nil {
			t.Fatalf("put %T: %v", v, err)
		}
	}
	put(directory.Institution{Code: asyncFarmersCode, Name: "Farmer registry (asynchronous)", Sector: "agriculture", Kind: "authentic_source", Enterprise: enterprise.String()})
	put(directory.Application{ID: synth.AppID(asyncFarmersCode), Institution: asyncFarmersCode, Name: "Farmer registry", Status: directory.StatusActive,
		Keys: []json.RawMessage{jwk}, AuthMethods: []string{directory.AuthClientSecret}})
	put(directory.Service{ID: "async-farmers", Institution: asyncFarmersCode, Registry: "farmer", Name: "Farmers (asynchronous)", Mode: directory.ModeAsync,
		Fields: []string{"farmer_id", "given_name", "family_name", "land_area_ha", "crops"}, Endpoint: srv.URL + "/dci/fr"})
	put(directory.Authorization{ID: "auth-async-farmers", Institution: requester, Service: "async-farmers",
		Fields: []string{"farmer_id", "given_name", "family_name"}, Purpose: "health-insurance", LegalBasis: "test",
		ValidFrom: today.AddDays(-1), Decision: "test"})
	t.Cleanup(func() { // the nation is shared: later tests must not route the farmer registry here
		_ = directory.Delete[directory.Authorization](ctx, r.st.Directory, "test", "auth-async-farmers")
		_ = directory.Delete[directory.Service](ctx, r.st.Directory, "test", "async-farmers")
	})
	rc := &receiver{arrived: make(chan struct{}, 4)}
	partner := httptest.NewServer(rc)
	defer partner.Close()
	app, _, _ := directory.Get[directory.Application](ctx, r.st.Directory, synth.AppID(requester))
	app.Callbacks = []string{partner.URL + "/"}
	put(app)

	search := func(messageID, senderURI string) string {
		return strings.ReplaceAll(strings.ReplaceAll(farmerSearch(messageID, "t-"+messageID, senderURI), "remote-farmers", "async-farmers"), "FARMER-TEST-001", "FARMER-TEST-002")
	}
	probes := 0
	waitFor(t, "the hub to pick up the new service", func() bool {
		probes++
		status, body := post(t, r.url+"/dci/fr/registry/sync/search", r.token(t, requester), search(fmt.Sprint("aprobe-", probes), ""))
		return status == 200 && strings.Contains(string(body), `"Bo"`)
	})
	token := r.token(t, requester)
	before := r.auditSize(t)
	status, body := post(t, r.url+"/dci/fr/registry/sync/search", token, search("afs-1", ""))
	if status != 200 || !strings.Contains(string(body), `"Bo"`) || strings.Contains(string(body), "rice") {
		t.Fatalf("sync search of the asynchronous registry: %d %s", status, body)
	}
	dcitest.ValidateResponse(t, spec, "/registry/sync/search", status, body)
	if after := r.auditSize(t); after != before+2 {
		t.Errorf("audit log grew by %d; want 2 (the callback and the exchange)", after-before)
	}

	// Async for the client too: the hub's worker waits for the registry's callback.
	if status, ack := post(t, r.url+"/dci/fr/registry/search", token, search("afa-1", partner.URL+"/on-search")); status != http.StatusAccepted {
		t.Fatalf("async search of the asynchronous registry: %d %s", status, ack)
	}
	cb := rc.next(t)
	dcitest.ValidateRequest(t, spec, "/registry/on-search", cb)
	if !strings.Contains(string(cb), `"Bo"`) || strings.Contains(string(cb), "rice") {
		t.Errorf("async answer: %s", cb)
	}
	for range remote.asked.Load() { // the searches that reached the registry (early probes did not)
		if err := <-remote.called; err != nil {
			t.Errorf("a callback of the registry: %v", err)
		}
	}

	// Callbacks the hub did not ask for, or unsigned, or signed with another key.
	header := []byte(fmt.Sprintf(`{"version":"1.0.0","message_id":"x-1","message_ts":%q,"action":"on-search","status":"succ","sender_id":"async-farmers","total_count":1,"completed_count":1}`, time.Now().UTC().Format(time.RFC3339)))
	message := []byte(`{"transaction_id":"not-asked","correlation_id":"c","search_response":[]}`)
	if err := remote.post(r.url+"/dci/fr/registry/on-search", header, message, priv); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a callback for a transaction the hub never sent: %v; want 404", err)
	}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	if err := remote.post(r.url+"/dci/fr/registry/on-search", header, message, other); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("a callback signed with another key: %v; want 401", err)
	}
	for _, path := range []string{"on-subscribe", "on-unsubscribe", "txn/on-status"} {
		if err := remote.post(r.url+"/dci/fr/registry/"+path, header, message, priv); err == nil || !strings.Contains(err.Error(), "404") {
			t.Errorf("%s for a transaction the hub never sent: %v; want 404", path, err)
		}
	}
	if n := remote.asked.Load(); n < 3 || n > int64(2+probes) {
		t.Errorf("the registry was asked %d times; want a probe, the sync and the async search", n)
	}
}
