package hub_test

import "os"

func osMkdirTemp() (string, error) { return os.MkdirTemp("", "crossroads-hub-test-") }
