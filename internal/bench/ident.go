package bench

import (
	"testing"

	"github.com/crossroads-hub/crossroads/internal/ident"
)

// Ident measures person and enterprise number validation on one core and on all cores.
func Ident() (*Result, error) {
	persons := make([]string, 4096)
	for i := range persons {
		p, err := ident.MakePerson(1930+i%90, 1+i%12, 1+i%28, 1+i%997, ident.Register)
		if err != nil {
			return nil, err
		}
		persons[i] = p.String()
	}
	one := testing.Benchmark(func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if !ident.ValidPerson(persons[i&4095]) {
				b.Fatal("invalid")
			}
		}
	})
	all := testing.Benchmark(func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if !ident.ValidPerson(persons[i&4095]) {
					panic("invalid")
				}
			}
		})
	})
	ent := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			if !ident.ValidEnterprise("0403170701") {
				b.Fatal("invalid")
			}
		}
	})
	r := newResult("ident")
	perSec := func(br testing.BenchmarkResult) float64 {
		return round(float64(br.N) / br.T.Seconds() / 1e6)
	}
	r.add("person_checks_per_s_1core_millions", "person number checks, 1 core", perSec(one), "million/s")
	r.add("person_checks_per_s_millions", "person number checks, all cores", perSec(all), "million/s")
	r.add("enterprise_checks_per_s_1core_millions", "enterprise number checks, 1 core", perSec(ent), "million/s")
	r.add("person_check_ns", "one person check", float64(one.NsPerOp()), "ns")
	return r, nil
}
