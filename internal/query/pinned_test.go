package query

import (
	"strings"
	"testing"
)

func TestPinned(t *testing.T) {
	eq := func(a string) *Cond { return &Cond{Op: Eq, Attr: a, Value: "x"} }
	tests := []struct {
		c    *Cond
		want string
	}{
		{eq("a"), "a"},
		{&Cond{Op: And, Args: []*Cond{eq("a"), eq("b")}}, "a,b"},
		{&Cond{Op: Or, Args: []*Cond{eq("a"), eq("b")}}, ""},
		{&Cond{Op: Or, Args: []*Cond{&Cond{Op: And, Args: []*Cond{eq("a"), eq("b")}}, eq("a")}}, "a"},
		{&Cond{Op: Not, Args: []*Cond{eq("a")}}, ""},
		{&Cond{Op: Ge, Attr: "a", Value: "x"}, ""},
		{&Cond{Op: In, Attr: "a", Value: []string{"x"}}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		var got []string
		for _, a := range []string{"a", "b"} {
			if tt.c.Pinned()[a] {
				got = append(got, a)
			}
		}
		if strings.Join(got, ",") != tt.want {
			t.Errorf("Pinned(%+v) = %v; want %q", tt.c, got, tt.want)
		}
	}
}
