package audit

import "testing"

// TestUpTo: a transaction stores at most max records and maxBatchPersons index rows,
// and always at least one record, however many persons it names.
func TestUpTo(t *testing.T) {
	rec := func(persons int) pending { return pending{persons: make([]string, persons)} }
	many := func(n, persons int) []pending {
		out := make([]pending, n)
		for i := range out {
			out[i] = rec(persons)
		}
		return out
	}
	for _, c := range []struct {
		name string
		recs []pending
		max  int
		want int
	}{
		{"none", nil, 512, 0},
		{"few small", many(10, 1), 512, 10},
		{"records bound", many(600, 1), 512, 512},
		{"chunks of a thousand", many(100, 1000), 512, maxBatchPersons / 1000},
		{"one huge record", many(3, maxBatchPersons*2), 512, 1},
	} {
		if got := upTo(c.recs, c.max); got != c.want {
			t.Errorf("upTo(%s) = %d; want %d", c.name, got, c.want)
		}
	}
}
