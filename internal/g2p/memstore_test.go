package g2p_test

import (
	"testing"

	"github.com/crossroads-hub/crossroads/internal/g2p"
	"github.com/crossroads-hub/crossroads/internal/g2p/g2ptest"
)

func TestMemStore(t *testing.T) {
	g2ptest.Run(t, func(*testing.T) g2p.Store { return g2p.NewMemStore() })
}
