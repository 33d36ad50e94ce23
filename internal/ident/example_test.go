package ident_test

import (
	"errors"
	"fmt"

	"github.com/crossroads-hub/crossroads/internal/ident"
)

func ExampleParsePerson() {
	p, err := ident.ParsePerson("85.07.30-033.28")
	if err != nil {
		panic(err)
	}
	y, m, d := p.BirthDate()
	fmt.Println(p, p.Format(), y, m, d, p.Sex(), p.Kind())

	_, err = ident.ParsePerson("85133003328")
	var e *ident.Error
	if errors.As(err, &e) {
		fmt.Println(e.Field, "|", e.Msg)
	}
	// Output:
	// 85073003328 85.07.30-033.28 1985 7 30 male register
	// month | month 13 is not a month
}

func ExampleMakeEnterprise() {
	n, _ := ident.MakeEnterprise(4031707)
	fmt.Println(n, n.Format())
	// Output: 0403170701 0403.170.701
}
