package synth

import (
	"math/rand/v2"
	"slices"
)

// rnd adds the few draws the generator needs to a PCG source. Every draw is an integer
// so that the nation does not depend on how a platform rounds floating point.
type rnd struct{ *rand.Rand }

// Streams of a seed: the nation's map and institutions, and its households.
const (
	streamNation = 0x9e3779b97f4a7c15
	streamPeople = 0xc2b2ae3d27d4eb4f
)

func newRnd(seed, stream uint64) rnd {
	return rnd{rand.New(rand.NewPCG(seed, seed^stream))}
}

// between returns a number from lo to hi inclusive; lo when hi < lo.
func (r rnd) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.IntN(hi-lo+1)
}

// chance reports true pct times in a hundred.
func (r rnd) chance(pct int) bool { return r.IntN(100) < pct }

// oneOf returns an element of list.
func oneOf[T any](r rnd, list []T) T { return list[r.IntN(len(list))] }

// picker draws an index with fixed integer weights.
type picker struct{ cum []uint64 }

// weights returns a picker over len(ws) items, item i weighing ws[i].
func weights(ws ...int) picker {
	p := picker{cum: make([]uint64, len(ws))}
	var t uint64
	for i, w := range ws {
		t += uint64(w)
		p.cum[i] = t
	}
	return p
}

// zipf returns a picker over n items where item i weighs 1/(i+offset): a few common
// items and a long tail, like names, towns and employers.
func zipf(n, offset int) picker {
	p := picker{cum: make([]uint64, n)}
	var t uint64
	for i := range n {
		t += (1 << 40) / uint64(i+offset)
		p.cum[i] = t
	}
	return p
}

// pick draws an index.
func (p picker) pick(r rnd) int {
	x := r.Uint64N(p.cum[len(p.cum)-1])
	i, _ := slices.BinarySearch(p.cum, x+1)
	return i
}
