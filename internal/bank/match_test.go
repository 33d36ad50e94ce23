package bank

import "testing"

func TestNameScore(t *testing.T) {
	cases := []struct {
		a, b     string
		min, max int
	}{
		{"Maria de la Cruz", "CRUZ, maria DE-LA", 100, 100},
		{"José Müller", "jose muller", 100, 100},
		{"Annelies Vandenbroucke", "Anneleis Vandenbroucke", MatchThreshold, 99},
		{"Annelies Vandenbroucke", "Pieter Claes", 0, 20},
		{"Annelies Vandenbroucke", "Annelies Peeters", 30, MatchThreshold - 1},
		{"", "Pieter Claes", 0, 0},
		{"!!!", "???", 0, 0},
	}
	for _, c := range cases {
		if got := NameScore(c.a, c.b); got < c.min || got > c.max {
			t.Errorf("NameScore(%q, %q) = %d; want %d–%d", c.a, c.b, got, c.min, c.max)
		}
		if got, back := NameScore(c.a, c.b), NameScore(c.b, c.a); got != back {
			t.Errorf("NameScore(%q, %q) = %d but %d the other way", c.a, c.b, got, back)
		}
	}
}
