package directory

import (
	"strings"
	"testing"
)

func TestParseBatch(t *testing.T) {
	in := "person;institution;capacity;begin;end\n" +
		"85073003328;PF;001;2020-01-01;\n" +
		"\n" +
		"85073003328;PF;001;2020-13-01;\n" +
		"85073003328;PF;001\n" +
		"85073003328;PF;002;2020-01-01;2021-01-01\n"
	pb, err := ParseBatch(strings.NewReader(in), 100)
	if err != nil {
		t.Fatalf("ParseBatch: %v", err)
	}
	if len(pb.Lines) != 2 || pb.FileLine[0] != 2 || pb.FileLine[1] != 6 {
		t.Fatalf("ParseBatch lines = %+v at %v; want 2 lines at 2 and 6", pb.Lines, pb.FileLine)
	}
	if len(pb.Bad) != 2 || pb.Bad[0].Line != 4 || pb.Bad[0].Field != "begin" || pb.Bad[1].Line != 5 || pb.Bad[1].Field != "line" {
		t.Fatalf("ParseBatch bad = %+v; want line 4 (begin) and 5 (line)", pb.Bad)
	}
	rep := pb.Renumber(Report{Lines: []LineResult{{Line: 1, Status: LineApplied}, {Line: 2, Status: LineApplied}}, Applied: 2})
	var got []int
	for _, l := range rep.Lines {
		got = append(got, l.Line)
	}
	if rep.Rejected != 2 || len(got) != 4 || got[0] != 2 || got[1] != 4 || got[2] != 5 || got[3] != 6 {
		t.Errorf("Renumber = %+v; want lines 2,4,5,6 with 2 rejected", rep)
	}
}

func TestParseBatchHeader(t *testing.T) {
	tests := []struct{ in, field string }{
		{"", "file"},
		{"person,institution,capacity\n", "header"},
		{"person,institution,capacity,begin,colour\n", "header"},
		{"person,person,institution,capacity,begin\n", "header"},
	}
	for _, tt := range tests {
		_, err := ParseBatch(strings.NewReader(tt.in), 10)
		if f, _ := fieldOf(err); f != tt.field {
			t.Errorf("ParseBatch(%q) = %v; want a fault on %q", tt.in, err, tt.field)
		}
	}
}

func TestParseBatchLimit(t *testing.T) {
	in := "person,institution,capacity,begin\n" + strings.Repeat("85073003328,PF,001,2020-01-01\n", 5)
	if _, err := ParseBatch(strings.NewReader(in), 4); err == nil {
		t.Errorf("ParseBatch over the limit = nil error; want one")
	}
}

func TestParseBatchLongLine(t *testing.T) {
	head := "person,institution,capacity,begin\n"
	line := "85073003328,PF,001,2020-01-01\n"
	long := strings.Repeat("9", MaxFileLine+1)
	tests := []struct {
		name, in string
		want     string // in the error; "" for none
	}{
		{"a long header", long + "\n" + line, "line 1 is longer than 1024 bytes"},
		{"a long line after good ones", head + strings.Repeat(line, 3000) + long + "\n" + line, "line 3002 is longer than 1024 bytes"},
		{"a long last line without a newline", head + line + long, "line 3 is longer than 1024 bytes"},
		{"lines of the longest length", head + strings.Repeat(strings.Repeat(" ", MaxFileLine-len(line)+1)+line, 2), ""},
	}
	for _, tt := range tests {
		_, err := ParseBatch(strings.NewReader(tt.in), 10_000)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, tt.want) || (tt.want == "") != (err == nil) {
			t.Errorf("%s: ParseBatch = %v; want an error saying %q", tt.name, err, tt.want)
		}
	}
}

func FuzzParseBatch(f *testing.F) {
	f.Add("person,institution,capacity,begin,end\n85073003328,PF,001,2020-01-01,\n")
	f.Add("action;person;institution;capacity;begin;end\nend;85073003328;PF;001;2020-01-01;2021-01-01\n")
	f.Add("\ufeffPERSON,institution,capacity,begin\n\"x\"\"\",,,\n")
	f.Fuzz(func(t *testing.T, in string) {
		pb, err := ParseBatch(strings.NewReader(in), 1000)
		if err != nil {
			return
		}
		if len(pb.Lines) != len(pb.FileLine) {
			t.Fatalf("%d lines but %d line numbers", len(pb.Lines), len(pb.FileLine))
		}
		for i := range pb.Lines {
			l := pb.Lines[i]
			_ = l.Check() // must not panic whatever the line holds
		}
	})
}
