package rights

import (
	"errors"
	"slices"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

func asFault(err error, fe **fault.Error) bool { return errors.As(err, fe) }

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
