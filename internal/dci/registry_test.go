package dci_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/dci/dcitest"
)

// TestRegistriesAgreeWithDocuments holds the table of registries to the standard's
// documents where they say it: each registry's document exists; the calls it adds to the
// CRVS document's (which has every common one) are the registry's own calls, no more and
// no fewer; and the reg_type of its answers is the one its document gives.
//
// The documents give the record type (reg_record_type) only as examples that disagree
// with each other (the social registry's says SRPerson, spdci-extensions-dci:Member and
// Member), so the table's record types are the hub's own choice and not checked here.
func TestRegistriesAgreeWithDocuments(t *testing.T) {
	dcitest.SpecDir(t) // skips, saying why, without the documents
	common := paths(dcitest.Load(t, dci.Registries[0].Document))
	if dci.Registries[0].Path != "crvs" || !slices.Contains(common, "/registry/sync/search") {
		t.Fatalf("the first registry is %q with the calls %v; want crvs, with every common call", dci.Registries[0].Path, common)
	}
	seen := map[string]bool{}
	for _, reg := range dci.Registries {
		for _, v := range []string{reg.Path, reg.Kind, reg.Document} {
			if v == "" || seen[v] {
				t.Errorf("registry %q: path, kind and document must be given and unique; %q is not", reg.Path, v)
			}
			seen[v] = true
		}
		doc := dcitest.Load(t, reg.Document)
		var own []string
		for _, p := range paths(doc) {
			if !slices.Contains(common, p) {
				own = append(own, strings.TrimPrefix(p, "/registry/"))
			}
		}
		if calls := slices.Sorted(slices.Values(reg.Calls)); !slices.Equal(calls, own) {
			t.Errorf("registry %s: its own calls are %v; its document %s adds %v", reg.Path, calls, reg.Document, own)
		}
		if got := regTypeExample(doc); got != reg.Type {
			t.Errorf("registry %s: reg_type %q; its document %s gives %q", reg.Path, reg.Type, reg.Document, got)
		}
		if r, ok := dci.RegistryAt(reg.Path); !ok || r.Kind != reg.Kind || dci.RegistryOf(reg.Kind).Path != reg.Path {
			t.Errorf("RegistryAt(%q) = %v, %v; RegistryOf(%q) = %v; want the table's row", reg.Path, r, ok, reg.Kind, dci.RegistryOf(reg.Kind))
		}
	}
	if r, ok := dci.RegistryAt("employment"); ok || dci.RegistryOf("employment").Type != "" {
		t.Errorf("RegistryAt(employment) = %v, %v; want no registry", r, ok)
	}
}

// paths lists a document's paths, sorted.
func paths(doc *openapi3.T) []string {
	return slices.Sorted(func(yield func(string) bool) {
		for p := range doc.Paths.Map() {
			if !yield(p) {
				return
			}
		}
	})
}

// regTypeExample is the example of data.reg_type in the document's SearchResponse: the
// one place each document names its own registry type.
func regTypeExample(doc *openapi3.T) string {
	s := doc.Components.Schemas["SearchResponse"]
	for _, step := range []string{"search_response", "", "data", "reg_type"} {
		if s == nil || s.Value == nil {
			return ""
		}
		if step == "" {
			s = s.Value.Items
		} else {
			s = s.Value.Properties[step]
		}
	}
	if s == nil || s.Value == nil {
		return ""
	}
	ex, _ := s.Value.Example.(string)
	return ex
}
