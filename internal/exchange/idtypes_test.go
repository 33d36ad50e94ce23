package exchange

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/query"
)

// TestPersonIDTypesChecked: a look-up by any identifier type the hub accepts for a person
// number (in any case; a UIN when its value is a person number) of a person the asker
// has no file on is refused before the source is asked, as one by PN is.
func TestPersonIDTypesChecked(t *testing.T) {
	pension := Caller{ClientID: "pension-app", Institution: "PENSION-FUND"}
	n := 0
	for name, kind := range IDTypes {
		if kind != IDPerson && kind != IDUnique {
			continue
		}
		for _, spelled := range []string{name, strings.ToLower(name)} {
			n++
			src, rec := &fakeSource{records: []map[string]any{bob()}}, &memRecorder{}
			x := New(testPolicy(t), oneSource{scopedSource{src}}, rec, func() time.Time { return day.Time() })
			ans := x.Search(context.Background(), Ask{Caller: pension, Service: "civil-person",
				Query: query.Query{Kind: query.KindID, IDType: spelled, IDValue: "01010100225"}})
			if ans.Status != 403 || src.calls != 0 || len(ans.Records) != 0 {
				t.Errorf("look-up by %s of a person without a file: status %d, source calls %d, records %d; want 403, 0, 0",
					spelled, ans.Status, src.calls, len(ans.Records))
			}
		}
	}
	if n < 2*6 {
		t.Errorf("%d identifier types checked; want PN, NIN, NID and the other names of a person number", n/2)
	}
}

// TestIDTypeOf: the names other registries use, in any case, and nothing else.
func TestIDTypeOf(t *testing.T) {
	tests := map[string]string{
		"PN": IDPerson, "nin": IDPerson, "NID": IDPerson, "NationalID": IDPerson, "national_id": IDPerson,
		"UIN": IDUnique, "BRN": IDBirth, "BIRTH_REG_NO": IDBirth, "birth_registration_number": IDBirth,
		"FARMER_ID": IDFarmer, "MOBILE": "", "": "", "P N": "",
	}
	for name, want := range tests {
		if got := IDTypeOf(name); got != want {
			t.Errorf("IDTypeOf(%q) = %q; want %q", name, got, want)
		}
	}
}
