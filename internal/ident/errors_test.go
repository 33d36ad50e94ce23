package ident

import (
	"strings"
	"testing"
)

func TestErrorMessage(t *testing.T) {
	long := "85073003328" + strings.Repeat("9", 40)
	tests := []struct {
		in   string
		want string
	}{
		{"8507300332", `ident: "8507300332": person number must have 11 digits, got 10`},
		{"", `ident: person number must have 11 digits, got 0`},
		{long, `ident: "85073003328999999999999999999999...": person number must have 11 digits, got 51`},
		{strings.Repeat("é", 40), `ident: "` + strings.Repeat("é", 32) + `...": character 'é' at position 1 is not a digit`},
	}
	for _, tt := range tests {
		_, err := ParsePerson(tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParsePerson(%q) = %v; want %v", tt.in, err, tt.want)
		}
	}
}

func TestErrorKeepsFullInput(t *testing.T) {
	in := strings.Repeat("1", 100)
	_, err := ParseEnterprise(in)
	if e, ok := err.(*Error); !ok || e.Input != in {
		t.Errorf("ParseEnterprise(%q) = %#v; want *Error with the full input", in, err)
	}
}
