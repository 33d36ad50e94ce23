package benefitstest

import (
	"testing"

	"github.com/crossroads-hub/crossroads/internal/benefits"
)

func TestMemory(t *testing.T) {
	Run(t, func(t *testing.T) benefits.Store { return &Memory{} })
}
