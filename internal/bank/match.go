package bank

import (
	"slices"
	"strings"
	"unicode"
)

// NameScore compares two full names, 0–100: the Sørensen–Dice coefficient of the
// character pairs of their words, after case, accents, punctuation and word order are
// set aside ("Maria  DE-LA Cruz" and "cruz maria de la" score 100; one typo in a long
// name keeps it above MatchThreshold, another person's name falls far below).
func NameScore(a, b string) int {
	ka, kb := nameKey(a), nameKey(b)
	if ka == "" || kb == "" {
		return 0
	}
	if ka == kb {
		return 100
	}
	pa, pb := pairs(ka), pairs(kb)
	if len(pa) == 0 || len(pb) == 0 {
		return 0
	}
	common, j := 0, 0
	for _, p := range pa { // both sorted: a merge
		for j < len(pb) && pb[j] < p {
			j++
		}
		if j < len(pb) && pb[j] == p {
			common++
			j++
		}
	}
	return 200 * common / (len(pa) + len(pb))
}

// nameKey is a name's words, folded and sorted, joined by one space.
func nameKey(s string) string {
	var words []string
	var w strings.Builder
	flush := func() {
		if w.Len() > 0 {
			words = append(words, w.String())
			w.Reset()
		}
	}
	for _, r := range s {
		r = fold(unicode.ToLower(r))
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			w.WriteRune(r)
		} else if r != '\'' && r != '.' {
			flush()
		}
	}
	flush()
	slices.Sort(words)
	return strings.Join(words, " ")
}

// pairs lists the adjacent character pairs of each word, sorted.
func pairs(key string) []string {
	var out []string
	for _, w := range strings.Fields(key) {
		r := []rune(w)
		if len(r) == 1 {
			out = append(out, w)
		}
		for i := 0; i+1 < len(r); i++ {
			out = append(out, string(r[i:i+2]))
		}
	}
	slices.Sort(out)
	return out
}

// fold removes the accents of the Latin letters names commonly carry.
func fold(r rune) rune {
	if r < 0xC0 {
		return r
	}
	const from = "àáâãäåçèéêëìíîïñòóôõöøùúûüýÿ"
	const to = "aaaaaaceeeeiiiinoooooouuuuyy"
	if i := strings.IndexRune(from, r); i >= 0 {
		return rune(to[len([]rune(from[:i]))])
	}
	return r
}
