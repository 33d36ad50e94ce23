package ident

import (
	"testing"
)

// benchPersons holds valid numbers in both forms, so that the benchmark
// measures the scan over separators as well as the arithmetic.
func benchPersons(b *testing.B) []string {
	b.Helper()
	var out []string
	for i := range 512 {
		p, err := MakePerson(1900+i%200, 1+i%12, 1+i%28, 1+i%998, PersonKind(i%3))
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, p.String(), p.Format())
	}
	return out
}

// reportRate adds checks per second, the figure the bulk loader needs.
func reportRate(b *testing.B) {
	if ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N); ns > 0 {
		b.ReportMetric(1e9/ns, "checks/s")
	}
}

func BenchmarkCheckPerson(b *testing.B) {
	in := benchPersons(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := CheckPerson(in[i%len(in)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportRate(b)
}

func BenchmarkValidPerson(b *testing.B) {
	in := benchPersons(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if !ValidPerson(in[i%len(in)]) {
			b.Fatal(in[i%len(in)])
		}
		i++
	}
	reportRate(b)
}

func BenchmarkCheckEnterprise(b *testing.B) {
	var in []string
	for i := range 1024 {
		n, _ := MakeEnterprise(i * 19531)
		in = append(in, n.String(), "BE "+n.Format())
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := CheckEnterprise(in[i%len(in)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportRate(b)
}

func BenchmarkMakePerson(b *testing.B) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := MakePerson(1900+i%200, 1+i%12, 1+i%28, 1+i%998, Register); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkParsePersonInvalid(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePerson("85073003312"); err == nil {
			b.Fatal("no error")
		}
	}
}
