package cluster

import "testing"

func TestCheckDelivery(t *testing.T) {
	recorded := []string{"civil:1/s", "civil:2/s", "civil:3/s", "civil:4/s"}
	for _, c := range []struct {
		name                         string
		got                          []Copy
		missing, repeats, outOfOrder int
	}{
		{"all in order", []Copy{{"civil:1/s", "A"}, {"civil:2/s", "B"}, {"civil:3/s", "A"}, {"civil:4/s", "B"}}, 0, 0, 0},
		{"persons interleaved", []Copy{{"civil:2/s", "B"}, {"civil:1/s", "A"}, {"civil:4/s", "B"}, {"civil:3/s", "A"}}, 0, 0, 0},
		{"one lost", []Copy{{"civil:1/s", "A"}, {"civil:2/s", "B"}, {"civil:4/s", "B"}}, 1, 0, 0},
		{"a repeat", []Copy{{"civil:1/s", "A"}, {"civil:1/s", "A"}, {"civil:2/s", "B"}, {"civil:3/s", "A"}, {"civil:4/s", "B"}}, 0, 1, 0},
		{"a person's order broken", []Copy{{"civil:3/s", "A"}, {"civil:1/s", "A"}, {"civil:2/s", "B"}, {"civil:4/s", "B"}}, 0, 0, 1},
		{"a late repeat is no disorder", []Copy{{"civil:1/s", "A"}, {"civil:3/s", "A"}, {"civil:1/s", "A"}, {"civil:2/s", "B"}, {"civil:4/s", "B"}}, 0, 1, 0},
	} {
		d := CheckDelivery(recorded, c.got)
		if d.Missing != c.missing || d.Repeats != c.repeats || d.OutOfOrder != c.outOfOrder {
			t.Errorf("%s: CheckDelivery = missing %d, repeats %d, out of order %d; want %d, %d, %d (%v)",
				c.name, d.Missing, d.Repeats, d.OutOfOrder, c.missing, c.repeats, c.outOfOrder, d.Problems)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@h:5432/db?x=1": "postgres://u:***@h:5432/db?x=1",
		"postgres://u@h/db":                 "postgres://u@h/db",
		"postgres://h/db":                   "postgres://h/db",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q; want %q", in, got, want)
		}
	}
}
