package exchange

import (
	"encoding/json"
	"testing"
)

func TestMinimise(t *testing.T) {
	rec := map[string]any{"@type": "Person", "person": "85073003328", "given_name": "Ann", "death_date": "2020-01-01",
		"address": map[string]any{"street": "Main", "postal_code": "1000", "region": "R01"}}
	tests := []struct {
		fields []string
		want   string
	}{
		{[]string{"given_name"}, `{"@type":"Person","given_name":"Ann"}`},
		{[]string{"given_name", "address.street"}, `{"@type":"Person","address":{"street":"Main"},"given_name":"Ann"}`},
		{[]string{"address"}, `{"@type":"Person","address":{"postal_code":"1000","region":"R01","street":"Main"}}`},
		{[]string{"address.house_number"}, `{"@type":"Person"}`},
		{nil, `{"@type":"Person"}`},
		{[]string{"given_name.first"}, `{"@type":"Person"}`},
	}
	for _, tt := range tests {
		b, _ := json.Marshal(Minimise(rec, tt.fields))
		if string(b) != tt.want {
			t.Errorf("Minimise(%v) = %s; want %s", tt.fields, b, tt.want)
		}
	}
}
