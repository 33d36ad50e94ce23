package dci_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/dci/dcitest"
)

// sampleWant is what decoding makes of each search sample of the standard once its
// placeholder ids ("" transaction_id and reference_id) are filled in: the item's query, or
// the reason it is rejected.
//
// None of these samples is schema-valid (TestSamplesAreNotSchemaValid says why). The CRVS
// ones decode thanks to the documented leniencies: total_count "1", meta "", consent and
// authorize "", locale "", and predicate lists sent as query_type "expression" with
// seq_num, condition and expression2 set to "".
var sampleWant = map[string]string{
	"crvs/processflow1req.json":     `id UIN=847951632`,
	"crvs/processflow2req.json":     `filter eq(UIN,"847951632")`,
	"crvs/processflow3req.json":     `id UIN=847951632`,
	"crvs/processflow4req.json":     `filter eq(UIN,"847951632")`,
	"crvs/processflow5req.json":     `id UIN=847951632`,
	"crvs/processflow6req.json":     `filter eq(UIN,"847951632")`,
	"ibr/processflow3areq.json":     `id UIN=847951632`,
	"ibr/processflow4req.json":      `id UIN=847951632`,
	"social/processflow2req.json":   `filter eq(UIN,"847951632")`,
	"dr/processflow3req.json":       dci.RjctCriteriaInvalid, // locale "EN/GB"
	"social/processflow1-1req.json": dci.RjctCriteriaInvalid, // locale "EN/GB"
	"social/processflow1-2req.json": dci.RjctCriteriaInvalid, // locale "EN/GB"
	"social/processflow1-3req.json": dci.RjctCriteriaInvalid, // locale "EN/GB"
	"social/processflow3areq.json":  dci.RjctCriteriaInvalid, // "expression3" in a predicate
	"social/processflow4req.json":   dci.RjctCriteriaInvalid, // "expression3" in a predicate
}

// searchSamples returns the sample requests that are searches (action search, a
// search_request list), by "registry/file" name.
func searchSamples(t *testing.T) map[string][]byte {
	files, err := filepath.Glob(filepath.Join(dcitest.SamplesDir(t), "*", "*req.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			Header struct {
				Action string `json:"action"`
			} `json:"header"`
			Message struct {
				SearchRequest []json.RawMessage `json:"search_request"`
			} `json:"message"`
		}
		if json.Unmarshal(b, &s) != nil || s.Header.Action != "search" || len(s.Message.SearchRequest) == 0 {
			continue // not a search: subscribe, enrolled, register, or not even an envelope
		}
		out[filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f)] = b
	}
	return out
}

func fillPlaceholders(t *testing.T, b []byte) []byte {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	message(m)["transaction_id"] = "tx-sample"
	for i, it := range message(m)["search_request"].([]any) {
		it.(map[string]any)["reference_id"] = fmt.Sprintf("ref-%d", i)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func summary(it dci.SearchRequestItem) string {
	switch {
	case it.Err != nil:
		return dci.ReasonOf(it.Err)
	case it.Query.Kind == "id":
		return "id " + it.Query.IDType + "=" + it.Query.IDValue
	default:
		return "filter " + it.Query.Filter.String()
	}
}

func TestDecodeSamples(t *testing.T) {
	samples := searchSamples(t)
	for name, want := range sampleWant {
		b, ok := samples[name]
		if !ok {
			t.Errorf("%s: not found among the search samples", name)
			continue
		}
		// As published, every sample leaves transaction_id empty: the message is refused.
		if _, err := dci.DecodeSearch(b); dci.CodeOf(err) != dci.ErrRequestBad {
			t.Errorf("DecodeSearch(%s as published) = %v; want %s for the empty transaction_id", name, err, dci.ErrRequestBad)
		}
		env, err := dci.DecodeSearch(fillPlaceholders(t, b))
		if err != nil {
			t.Errorf("DecodeSearch(%s) = %v", name, err)
			continue
		}
		if got := summary(env.Message.SearchRequest[0]); got != want {
			t.Errorf("DecodeSearch(%s) item = %s (%v); want %s", name, got, env.Message.SearchRequest[0].Err, want)
		}
		// The samples' signature is a placeholder whose last quote is missing.
		if _, err := dci.ParseSignature(env.Signature); dci.CodeOf(err) != dci.ErrSignatureInvalid {
			t.Errorf("ParseSignature(%s) = %v; want %s", name, err, dci.ErrSignatureInvalid)
		}
	}
	for name := range samples {
		if _, ok := sampleWant[name]; !ok {
			t.Errorf("search sample %s has no expectation", name)
		}
	}
}

// TestSampleExpressionsParse reads the NoSql expressions of the social samples, which their
// locale keeps from being answered.
func TestSampleExpressionsParse(t *testing.T) {
	want := map[string]string{
		"social/processflow1-1req.json": `and(lt(poverty_score,"5")) Group`,
		"social/processflow1-2req.json": `and(lt(household_size,"5")) HouseHold`,
		"social/processflow1-3req.json": `and(eq(demographic_info.person.sex,"female"),eq(marital_status,"W")) Group`,
		"dr/processflow3req.json":       `and(gt(member.demographic_info.birth_date,"1950-08-18T00:00:00Z"),eq(disability_status,"Approved")) DRPerson`,
	}
	samples := searchSamples(t)
	for name, w := range want {
		var m map[string]any
		if err := json.Unmarshal(samples[name], &m); err != nil {
			t.Fatal(err)
		}
		q, _ := json.Marshal(criteria(m, 0)["query"])
		c, entity, err := dci.Expression(q)
		if err != nil || c.String()+" "+entity != w {
			t.Errorf("Expression(%s) = %v %s, %v; want %s", name, c, entity, err, w)
		}
	}
}

// TestSamplesAreNotSchemaValid records which search samples break their own schema, and why.
// All of them do: header.meta "" (an object), header.total_count "1" (an integer), locale
// "" or "EN/GB" (^[a-z]{3}$), consent and authorize "" (objects); the predicate lists sent as
// "expression" (crvs 2, 4, 6; social 2, 3a, 4) also match no branch of query's anyOf
// (seq_num "", expression2 "").
func TestSamplesAreNotSchemaValid(t *testing.T) {
	specOf := map[string]string{"crvs": "crvs_api_v1.0.0.yaml", "social": "social_api_v1.0.0.yaml",
		"ibr": "ibr_api_v1.0.0.yaml", "dr": "dr_api_v1.0.0.yaml", "fr": "fr_api_v1.0.0.yaml"}
	for name, b := range searchSamples(t) {
		spec := specOf[strings.Split(name, "/")[0]]
		err := dcitest.RequestError(t, spec, "/registry/sync/search", b)
		if err == nil {
			t.Errorf("%s is schema-valid; update the list of invalid samples", name)
			continue
		}
		for _, why := range []string{`"/meta": value must be an object`, `"/total_count": value must be an integer`} {
			if !strings.Contains(err.Error(), why) {
				t.Errorf("%s: error %v does not say %s", name, err, why)
			}
		}
	}
}
