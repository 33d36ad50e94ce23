package rawjson

import (
	"encoding/json"
	"testing"

	"pgregory.net/rapid"
)

// appendStringCases are where an encoder most easily parts from encoding/json.
var appendStringCases = []string{
	"", "plain ascii", `"quoted" \back\slash/`, "<script>&amp;</script>",
	"\b\f\n\r\t", "\x00\x01\x1f\x7f", "caf\u00e9 \u65e5\u672c \U0001F600",
	"\u2028\u2029", "\ufffd", "\xff", "\xc3", "a\xc3(b", "\xed\xa0\x80", // surrogate
	"\xf4\x90\x80\x80", "\xe2\x80", "\xe2\x80\xa8\xe2\x80", // beyond U+10FFFF, cut short
}

// fataler is what testing.T and rapid.T share.
type fataler interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// checkAppendString fails unless AppendString writes s as json.Marshal does, and
// appends to what dst holds without touching it.
func checkAppendString(t fataler, s string) {
	t.Helper()
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := AppendString(nil, s); string(got) != string(want) {
		t.Fatalf("AppendString(%q) = %s; json.Marshal: %s", s, got, want)
	}
	if got := AppendString([]byte("x:"), s); string(got) != "x:"+string(want) {
		t.Fatalf("AppendString(x:, %q) = %s; want x:%s", s, got, want)
	}
}

func TestAppendStringCases(t *testing.T) {
	for _, s := range appendStringCases {
		checkAppendString(t, s)
	}
	for c := range 256 {
		checkAppendString(t, string([]byte{byte(c)}))
	}
}

func TestAppendStringProperty(t *testing.T) {
	tricky := rapid.SampledFrom([]rune("\"\\/<>&\b\f\n\r\t\x00\x1f\x7f\u0080\u00e9\u2027\u2028\u2029\u202a\ufffd\U0010FFFF"))
	strs := rapid.OneOf(
		rapid.String(),
		rapid.StringOf(rapid.OneOf(tricky, rapid.Rune())),
		rapid.Map(rapid.SliceOf(rapid.Byte()), func(b []byte) string { return string(b) }),
	)
	rapid.Check(t, func(t *rapid.T) {
		checkAppendString(t, strs.Draw(t, "s"))
	})
}

func FuzzAppendString(f *testing.F) {
	for _, s := range appendStringCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkAppendString(t, s) })
}

func TestAppendStringAllocs(t *testing.T) {
	buf := make([]byte, 0, 256)
	for _, s := range appendStringCases {
		if n := testing.AllocsPerRun(10, func() { buf = AppendString(buf[:0], s) }); n != 0 {
			t.Errorf("AppendString(%q) allocates %v times into a large enough buffer", s, n)
		}
	}
}

func BenchmarkAppendString(b *testing.B) {
	for _, bc := range []struct{ name, s string }{
		{"ascii", "authorization FUND-7 in force"},
		{"escapes", "caf\u00e9 <b>\"quoted\"</b>\n\tdone & more \u2028"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			buf := make([]byte, 0, 256)
			for b.Loop() {
				buf = AppendString(buf[:0], bc.s)
			}
		})
	}
}
