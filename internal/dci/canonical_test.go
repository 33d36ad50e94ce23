package dci_test

import (
	"testing"

	"github.com/crossroads-hub/crossroads/internal/dci"
)

func TestCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		// RFC 8785 §3.2.2.
		{`{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
		   "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
		   "literals": [null, true, false]}`,
			`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`},
		// RFC 8785 §3.2.3: members sorted by UTF-16 code units.
		{`{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}`,
			"{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}"},
		{`-0`, `0`},
		{`[1e20, 1e21, 1e-6, 1e-7, 10.0, 5e-324, 1.7976931348623157e308, 9007199254740992, -1.5]`,
			`[100000000000000000000,1e+21,0.000001,1e-7,10,5e-324,1.7976931348623157e+308,9007199254740992,-1.5]`},
		{`"<&>\u2028\u007f"`, "\"<&>\u2028\u007f\""},
		{` { "b" : [ ] , "a" : { } } `, `{"a":{},"b":[]}`},
		{`["\ud83d\ude00","\\ud800","\uD83D\uDE00\n"]`, "[\"😀\",\"\\\\ud800\",\"😀\\n\"]"},
	}
	for _, tt := range tests {
		got, err := dci.Canonical([]byte(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("Canonical(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	// Not valid Unicode: RFC 8785 §3.2.2.2 (lone surrogates) and I-JSON (UTF-8). Two
	// messages that differ only there must not share a canonical form, and a signature.
	notUnicode := []string{`"\ud800"`, `"\udc00\ud800"`, `"\ud83d\u0041"`, `"\ud83dx"`, `{"\udfff":1}`, `["\ud800\n"]`,
		"\"\xff\"", "{\"a\xc3\":1}", "[\"\xed\xa0\x80\"]"}
	for _, in := range append([]string{`{"a":1,"a":2}`, `{"a":1} {}`, `{"a":`, `1e400`, ``, `[1,]`}, notUnicode...) {
		if got, err := dci.Canonical([]byte(in)); err == nil {
			t.Errorf("Canonical(%s) = %s; want an error", in, got)
		}
	}
}

func TestSignedContent(t *testing.T) {
	got, err := dci.SignedContent([]byte(`{"sender_id": "sp", "action":"search"}`), []byte(`{"transaction_id":"t"}`))
	want := `{"header":{"action":"search","sender_id":"sp"},"message":{"transaction_id":"t"}}`
	if err != nil || string(got) != want {
		t.Errorf("SignedContent = %s, %v; want %s", got, err, want)
	}
	// A part that is not one JSON value could smuggle members in.
	if _, err := dci.SignedContent([]byte(`{},"message":{"x":1}`), []byte(`{}`)); err == nil {
		t.Error("SignedContent accepted a header holding two values")
	}
}
