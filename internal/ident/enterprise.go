package ident

// EnterpriseNumber is a valid enterprise number: 10 digits starting with 0
// or 1. It is comparable; the zero value is no number, since check digits
// are never 00.
type EnterpriseNumber struct{ v uint64 }

// EstablishmentNumber is a valid establishment-unit number: 10 digits
// starting with 2 to 8. The zero value is no number.
type EstablishmentNumber struct{ v uint64 }

// ParseEnterprise parses an enterprise number in wire or printed form, with
// an optional "BE" prefix. The error is an *Error.
func ParseEnterprise(s string) (EnterpriseNumber, error) {
	v, err := enterprise.parse(s)
	return EnterpriseNumber{v}, err
}

// CheckEnterprise reports what is wrong with s as an enterprise number, or
// nil. It allocates only to build the error.
func CheckEnterprise(s string) error {
	_, err := enterprise.parse(s)
	return err
}

// ValidEnterprise reports whether s is a valid enterprise number. It never
// allocates.
func ValidEnterprise(s string) bool {
	_, ok := enterprise.check(s)
	return ok
}

// MakeEnterprise builds the enterprise number whose first eight digits are
// base (0-19999999), computing its check digits.
func MakeEnterprise(base int) (EnterpriseNumber, error) {
	v, err := enterprise.make(base)
	return EnterpriseNumber{v}, err
}

// IsZero reports whether n is the zero value rather than a parsed number.
func (n EnterpriseNumber) IsZero() bool { return n.v == 0 }

// String returns the wire form: 10 digits, without "BE".
func (n EnterpriseNumber) String() string { return layoutUnit(n.v, "##########") }

// Format returns the printed form 0403.170.701.
func (n EnterpriseNumber) Format() string { return layoutUnit(n.v, "####.###.###") }

// ParseEstablishment parses an establishment-unit number in wire or printed
// form. The error is an *Error.
func ParseEstablishment(s string) (EstablishmentNumber, error) {
	v, err := establishment.parse(s)
	return EstablishmentNumber{v}, err
}

// CheckEstablishment reports what is wrong with s as an establishment-unit
// number, or nil. It allocates only to build the error.
func CheckEstablishment(s string) error {
	_, err := establishment.parse(s)
	return err
}

// ValidEstablishment reports whether s is a valid establishment-unit
// number. It never allocates.
func ValidEstablishment(s string) bool {
	_, ok := establishment.check(s)
	return ok
}

// MakeEstablishment builds the establishment-unit number whose first eight
// digits are base (20000000-89999999), computing its check digits.
func MakeEstablishment(base int) (EstablishmentNumber, error) {
	v, err := establishment.make(base)
	return EstablishmentNumber{v}, err
}

// IsZero reports whether n is the zero value rather than a parsed number.
func (n EstablishmentNumber) IsZero() bool { return n.v == 0 }

// String returns the wire form: 10 digits.
func (n EstablishmentNumber) String() string { return layoutUnit(n.v, "##########") }

// Format returns the printed form 2.123.456.789.
func (n EstablishmentNumber) Format() string {
	return layoutUnit(n.v, "#.###.###.###")
}
