package rightstest

import (
	"testing"

	"github.com/crossroads-hub/crossroads/internal/rights"
)

func TestMemory(t *testing.T) {
	Run(t, func(t *testing.T) rights.Store { return &Memory{} })
}
