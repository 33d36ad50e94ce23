package dcitest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/dci/dcitest"
)

// TestValidatorCatchesErrors makes sure a validation that passes means something.
func TestValidatorCatchesErrors(t *testing.T) {
	const spec = "crvs_api_v1.0.0.yaml"
	bad := map[string]string{
		"message_ts without zone": `{"header":{"message_id":"1","message_ts":"2025-01-01T10:00:00","action":"on-search","status":"succ"},"message":{"transaction_id":"t","correlation_id":"c","search_response":[]}}`,
		"wrong action":            `{"header":{"message_id":"1","message_ts":"2025-01-01T10:00:00Z","action":"search","status":"succ"},"message":{"transaction_id":"t","correlation_id":"c","search_response":[]}}`,
		"unknown status":          `{"header":{"message_id":"1","message_ts":"2025-01-01T10:00:00Z","action":"on-search","status":"done"},"message":{"transaction_id":"t","correlation_id":"c","search_response":[]}}`,
		"records not a list":      `{"header":{"message_id":"1","message_ts":"2025-01-01T10:00:00Z","action":"on-search","status":"succ"},"message":{"transaction_id":"t","correlation_id":"c","search_response":[{"reference_id":"r","timestamp":"2025-01-01T10:00:00Z","status":"succ","data":{"reg_records":{}}}]}}`,
		"locale en":               `{"header":{"message_id":"1","message_ts":"2025-01-01T10:00:00Z","action":"on-search","status":"succ"},"message":{"transaction_id":"t","correlation_id":"c","search_response":[{"reference_id":"r","timestamp":"2025-01-01T10:00:00Z","status":"succ","locale":"en"}]}}`,
	}
	for name, body := range bad {
		if dcitest.ResponseError(t, spec, "/registry/sync/search", 200, []byte(body)) == nil {
			t.Errorf("%s: validated; want an error", name)
		}
	}
	good := `{"header":{"message_id":"1","message_ts":"2025-01-01T10:00:00Z","action":"on-search","status":"succ"},"message":{"transaction_id":"t","correlation_id":"c","search_response":[]}}`
	dcitest.ValidateResponse(t, spec, "/registry/sync/search", 200, []byte(good))
}

// TestSpecsLoad loads every registry document, the IBR one through its repair.
func TestSpecsLoad(t *testing.T) {
	for _, spec := range []string{"crvs_api_v1.0.0.yaml", "social_api_v1.0.0.yaml", "ibr_api_v1.0.0.yaml", "dr_api_v1.0.0.yaml", "fr_api_v1.0.0.yaml"} {
		if dcitest.Load(t, spec).Paths.Value("/registry/sync/search") == nil {
			t.Errorf("%s: no /registry/sync/search", spec)
		}
	}
	if _, err := os.Stat(filepath.Join(dcitest.SamplesDir(t), "crvs")); err != nil {
		t.Error(err)
	}
}

// TestFROnSubscribeRepaired: the FR document's on-subscribe, written beside "post: null",
// loads as a POST whose header is a callback header (status required).
func TestFROnSubscribeRepaired(t *testing.T) {
	const spec = "fr_api_v1.0.0.yaml"
	item := dcitest.Load(t, spec).Paths.Value("/registry/on-subscribe")
	if item == nil || item.Post == nil {
		t.Fatalf("FR /registry/on-subscribe: no POST")
	}
	noStatus := `{"header":{"message_id":"1","message_ts":"2025-01-01T10:00:00Z","action":"on-subscribe","sender_id":"s","total_count":1},"message":{}}`
	if dcitest.CallbackHeaderError(t, spec, "/registry/on-subscribe", []byte(noStatus)) == nil {
		t.Error("an on-subscribe header without status validated against FR; want an error")
	}
}
