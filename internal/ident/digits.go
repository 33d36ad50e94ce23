package ident

// scan reads the digits of s from index from on, skipping separators: space,
// dot and, when dash is set, dash. It accumulates the first max digits into
// v and counts all digits in n, so that a length error can say how many
// there were. It stops at the first other byte and returns its index in bad,
// or -1. It does not allocate: it is the hot loop of every validation.
func scan(s string, from, max int, dash bool) (v uint64, n, bad int) {
	for i := from; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n < max {
				v = v*10 + uint64(c-'0')
			}
			n++
		case c == ' ' || c == '.' || (dash && c == '-'):
		default:
			return v, n, i
		}
	}
	return v, n, -1
}

// check97 returns the check digits for base: 97 − (base mod 97), in 1..97.
// A base and its check digits sum to a multiple of 97, which is what catches
// every single-digit error and every adjacent transposition.
func check97(base uint64) int {
	return 97 - int(base%97)
}

// layout writes the n-digit decimal v, zero-padded, into pattern: every '#'
// takes the next digit and every other byte is copied. It gives the wire and
// printed forms one implementation. Patterns are at most 16 bytes long, so
// the only allocation is the returned string.
func layout(v uint64, n int, pattern string) string {
	var d [11]byte
	for i := n - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	var buf [16]byte
	b := buf[:len(pattern)]
	k := 0
	for i := 0; i < len(pattern); i++ {
		if pattern[i] != '#' {
			b[i] = pattern[i]
			continue
		}
		b[i] = d[k]
		k++
	}
	return string(b)
}
