package directory

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

func goodAuthorization() Authorization {
	return Authorization{ID: "AUTH-1", Institution: "PENSION-FUND", Service: "civil-person",
		Fields: []string{"given_name"}, Purpose: "pay pensions", LegalBasis: "Law of 1990",
		Capacities: []string{"001"}, ValidFrom: date.Of(2020, 1, 1), Decision: "Deliberation 20/001"}
}

// fieldOf returns the field an Invalid fault names, or "" and false.
func fieldOf(err error) (string, bool) {
	var fe *fault.Error
	if errors.As(err, &fe) && fe.Kind == fault.Invalid {
		return fe.Field, true
	}
	return "", false
}

func TestValidateNamesTheField(t *testing.T) {
	tests := []struct {
		name  string
		check func() error
		field string // "" means valid
	}{
		{"good institution", func() error {
			v := Institution{Code: "PENSION-FUND", Name: "Pension fund", Sector: "pensions", Kind: "fund", Enterprise: "0403.170.701"}
			return v.validate()
		}, ""},
		{"lower-case code", func() error {
			v := Institution{Code: "pension", Name: "x", Sector: "s", Kind: "k"}
			return v.validate()
		}, "code"},
		{"bad enterprise", func() error {
			v := Institution{Code: "PF", Name: "x", Sector: "s", Kind: "k", Enterprise: "0403170702"}
			return v.validate()
		}, "enterprise"},
		{"bad establishment", func() error {
			v := Institution{Code: "PF", Name: "x", Sector: "s", Kind: "k", Establishments: []string{"2123456791", "12"}}
			return v.validate()
		}, "establishments[1]"},
		{"good authorization", func() error { v := goodAuthorization(); return v.validate() }, ""},
		{"reversed period", func() error {
			v := goodAuthorization()
			v.ValidTo = date.Of(2019, 12, 31)
			return v.validate()
		}, "valid_to"},
		{"bad capacity", func() error {
			v := goodAuthorization()
			v.Capacities = []string{"1"}
			return v.validate()
		}, "capacities[0]"},
		{"duplicate field", func() error {
			v := goodAuthorization()
			v.Fields = []string{"sex", "sex"}
			return v.validate()
		}, "fields[1]"},
		{"no purpose", func() error {
			v := goodAuthorization()
			v.Purpose = " "
			return v.validate()
		}, "purpose"},
		{"application without methods", func() error {
			v := Application{ID: "app", Institution: "PF", Name: "x"}
			return v.validate()
		}, "auth_methods"},
		{"application with private key", func() error {
			v := Application{ID: "app", Institution: "PF", Name: "x", AuthMethods: []string{AuthPrivateKeyJWT},
				Keys: []json.RawMessage{json.RawMessage(`{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}`)}}
			return v.validate()
		}, "keys[0]"},
		{"application with public key", func() error {
			v := Application{ID: "app", Institution: "PF", Name: "x", AuthMethods: []string{AuthPrivateKeyJWT},
				Keys: []json.RawMessage{json.RawMessage(`{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`)}}
			return v.validate()
		}, ""},
		{"service with bad endpoint", func() error {
			v := Service{ID: "s", Institution: "CR", Registry: "civil", Name: "x", Fields: []string{"sex"}, Endpoint: "ftp://x"}
			return v.validate()
		}, "endpoint"},
		{"service with unknown registry", func() error {
			v := Service{ID: "s", Institution: "CR", Registry: "weather", Name: "x", Fields: []string{"sex"}, Endpoint: "builtin:civil"}
			return v.validate()
		}, "registry"},
		{"push subscription without endpoint", func() error {
			v := Subscription{ID: "s", Institution: "PF", EventTypes: []string{"death"}, Mode: ModePush}
			return v.validate()
		}, "endpoint"},
		{"unknown event", func() error {
			v := Subscription{ID: "s", Institution: "PF", EventTypes: []string{"death", "weather"}, Mode: ModePull}
			return v.validate()
		}, "event_types[1]"},
	}
	for _, tt := range tests {
		err := tt.check()
		field, invalid := fieldOf(err)
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%s: validate() = %v; want nil", tt.name, err)
		case tt.field != "" && (!invalid || field != tt.field):
			t.Errorf("%s: validate() = %v (field %q); want an Invalid fault on %q", tt.name, err, field, tt.field)
		}
	}
}

func TestLineCheck(t *testing.T) {
	tests := []struct {
		line  Line
		field string
	}{
		{Line{Integration: Integration{Person: "85.07.30-033.28", Institution: "PF", Capacity: "001", Begin: date.Of(2020, 1, 1)}}, ""},
		{Line{Integration: Integration{Person: "85073003329", Institution: "PF", Capacity: "001", Begin: date.Of(2020, 1, 1)}}, "person"},
		{Line{Integration: Integration{Person: "85073003328", Institution: "PF", Capacity: "1", Begin: date.Of(2020, 1, 1)}}, "capacity"},
		{Line{Integration: Integration{Person: "85073003328", Institution: "PF", Capacity: "001"}}, "begin"},
		{Line{Integration: Integration{Person: "85073003328", Institution: "PF", Capacity: "001", Begin: date.Of(2020, 1, 1), End: date.Of(2019, 1, 1)}}, "end"},
		{Line{Action: "end", Integration: Integration{Person: "85073003328", Institution: "PF", Capacity: "001", Begin: date.Of(2020, 1, 1)}}, "end"},
		{Line{Action: "drop", Integration: Integration{Person: "85073003328", Institution: "PF", Capacity: "001", Begin: date.Of(2020, 1, 1)}}, "action"},
	}
	for _, tt := range tests {
		l := tt.line
		err := l.Check()
		field, _ := fieldOf(err)
		if (tt.field == "" && err != nil) || field != tt.field {
			t.Errorf("Check(%+v) = %v; want fault on %q", tt.line, err, tt.field)
		}
		if err == nil && l.Person != "85073003328" {
			t.Errorf("Check normalised person to %q; want wire form", l.Person)
		}
	}
}

func TestOverlaps(t *testing.T) {
	a := Integration{Begin: date.Of(2020, 1, 1), End: date.Of(2020, 12, 31)}
	tests := []struct {
		b    Integration
		want bool
	}{
		{Integration{Begin: date.Of(2021, 1, 1)}, false},
		{Integration{Begin: date.Of(2020, 12, 31)}, true},
		{Integration{Begin: date.Of(2019, 1, 1), End: date.Of(2019, 12, 31)}, false},
		{Integration{Begin: date.Of(2019, 1, 1)}, true},
	}
	for _, tt := range tests {
		if got := a.Overlaps(tt.b); got != tt.want {
			t.Errorf("%v.Overlaps(%v) = %v; want %v", a, tt.b, got, tt.want)
		}
	}
}
