package directory

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

func (v *Institution) kind() Kind    { return KindInstitution }
func (v *Institution) key() string   { return v.Code }
func (v *Institution) owner() string { return "" }
func (v *Institution) refs() []ref   { return nil }
func (v *Institution) validate() error {
	if err := needCode("code", v.Code); err != nil {
		return err
	}
	if err := needText("name", v.Name, 200); err != nil {
		return err
	}
	if err := needToken("sector", v.Sector); err != nil {
		return err
	}
	if err := needToken("kind", v.Kind); err != nil {
		return err
	}
	if v.Enterprise != "" {
		e, err := ident.ParseEnterprise(v.Enterprise)
		if err != nil {
			return identFault("enterprise", err)
		}
		v.Enterprise = e.String()
	}
	if err := needEach("establishments", v.Establishments, func(f, n string) error {
		if _, err := ident.ParseEstablishment(n); err != nil {
			return identFault(f, err)
		}
		return nil
	}); err != nil {
		return err
	}
	return needEach("mandates", v.Mandates, func(f, n string) error {
		if _, err := ident.ParseEnterprise(n); err != nil {
			return identFault(f, err)
		}
		return nil
	})
}

func (v *Application) kind() Kind    { return KindApplication }
func (v *Application) key() string   { return v.ID }
func (v *Application) owner() string { return v.Institution }
func (v *Application) refs() []ref {
	return []ref{{"institution", KindInstitution, v.Institution}}
}
func (v *Application) validate() error {
	if err := needID("id", v.ID); err != nil {
		return err
	}
	if err := needCode("institution", v.Institution); err != nil {
		return err
	}
	if err := needText("name", v.Name, 200); err != nil {
		return err
	}
	if v.Status == "" {
		v.Status = StatusActive
	}
	if err := needOneOf("status", v.Status, []string{StatusActive, StatusSuspended, StatusRevoked}); err != nil {
		return err
	}
	if len(v.AuthMethods) == 0 {
		return fault.Invalidf("auth_methods", "name at least one of client_secret, private_key_jwt")
	}
	methods := []string{AuthClientSecret, AuthPrivateKeyJWT}
	if err := needEach("auth_methods", v.AuthMethods, func(f, m string) error { return needOneOf(f, m, methods) }); err != nil {
		return err
	}
	for i, k := range v.Keys {
		if err := needJWK("keys["+itoa(i)+"]", k); err != nil {
			return err
		}
	}
	if v.Signatures == "" {
		v.Signatures = SignaturesNone
	}
	if err := needOneOf("signatures", v.Signatures, []string{SignaturesNone, SignaturesOptional, SignaturesRequired}); err != nil {
		return err
	}
	if v.Signatures != SignaturesNone && len(v.Keys) == 0 {
		return fault.Invalidf("signatures", "%s needs at least one public key in keys", v.Signatures)
	}
	// Normal forms first, so that the same prefix written twice is seen as a duplicate.
	for i := range v.Callbacks {
		if err := needEndpoint("callbacks["+itoa(i)+"]", &v.Callbacks[i], ParsePrefix); err != nil {
			return err
		}
	}
	return needEach("callbacks", v.Callbacks, func(string, string) error { return nil })
}

func (v *Service) kind() Kind    { return KindService }
func (v *Service) key() string   { return v.ID }
func (v *Service) owner() string { return v.Institution }
func (v *Service) refs() []ref {
	return []ref{{"institution", KindInstitution, v.Institution}}
}
func (v *Service) validate() error {
	if err := needID("id", v.ID); err != nil {
		return err
	}
	if err := needCode("institution", v.Institution); err != nil {
		return err
	}
	if err := needOneOf("registry", v.Registry, RegistryTypes); err != nil {
		return err
	}
	if err := needText("name", v.Name, 200); err != nil {
		return err
	}
	if err := needEach("data_sets", v.DataSets, needField); err != nil {
		return err
	}
	if len(v.Fields) == 0 {
		return fault.Invalidf("fields", "name at least one field the service returns")
	}
	if err := needEach("fields", v.Fields, needField); err != nil {
		return err
	}
	if v.Mode != "" {
		if err := needOneOf("mode", v.Mode, []string{ModeSync, ModeAsync}); err != nil {
			return err
		}
	}
	if name, ok := strings.CutPrefix(v.Endpoint, "builtin:"); ok && tokenRE.MatchString(name) {
		return nil
	}
	return needEndpoint("endpoint", &v.Endpoint, ParsePrefix)
}

func (v *Authorization) kind() Kind    { return KindAuthorization }
func (v *Authorization) key() string   { return v.ID }
func (v *Authorization) owner() string { return v.Institution }
func (v *Authorization) refs() []ref {
	return []ref{{"institution", KindInstitution, v.Institution}, {"service", KindService, v.Service}}
}
func (v *Authorization) validate() error {
	if err := needID("id", v.ID); err != nil {
		return err
	}
	if err := needCode("institution", v.Institution); err != nil {
		return err
	}
	if err := needID("service", v.Service); err != nil {
		return err
	}
	if len(v.Fields) == 0 {
		return fault.Invalidf("fields", "name at least one authorized field")
	}
	if err := needEach("fields", v.Fields, needField); err != nil {
		return err
	}
	if err := needText("purpose", v.Purpose, 500); err != nil {
		return err
	}
	if err := needText("legal_basis", v.LegalBasis, 500); err != nil {
		return err
	}
	if err := needEach("capacities", v.Capacities, needCapacity); err != nil {
		return err
	}
	if v.ValidFrom.IsZero() {
		return fault.Invalidf("valid_from", "is required")
	}
	if !v.ValidTo.IsZero() && v.ValidTo < v.ValidFrom {
		return fault.Invalidf("valid_to", "%s is before valid_from %s", v.ValidTo, v.ValidFrom)
	}
	if v.LookbackDays < 0 || v.LookbackDays > MaxLookbackDays {
		return fault.Invalidf("lookback_days", "must be 0 (today only) to %d", MaxLookbackDays)
	}
	for _, f := range v.Identify {
		if !slices.Contains(v.Fields, f) {
			return fault.Invalidf("identify", "%q is not one of the fields granted", f)
		}
	}
	return needText("decision", v.Decision, 200)
}

func (v *Subscription) kind() Kind    { return KindSubscription }
func (v *Subscription) key() string   { return v.ID }
func (v *Subscription) owner() string { return v.Institution }
func (v *Subscription) refs() []ref {
	return []ref{{"institution", KindInstitution, v.Institution}}
}
func (v *Subscription) validate() error {
	if err := needID("id", v.ID); err != nil {
		return err
	}
	if err := needCode("institution", v.Institution); err != nil {
		return err
	}
	if len(v.EventTypes) == 0 {
		return fault.Invalidf("event_types", "name at least one of %v", EventTypes)
	}
	if err := needEach("event_types", v.EventTypes, func(f, t string) error { return needOneOf(f, t, EventTypes) }); err != nil {
		return err
	}
	if err := needEach("capacities", v.Capacities, needCapacity); err != nil {
		return err
	}
	if err := needOneOf("mode", v.Mode, []string{ModePush, ModePull}); err != nil {
		return err
	}
	if v.Status != "" {
		if err := needOneOf("status", v.Status, []string{SubscriptionActive, SubscriptionCancelled}); err != nil {
			return err
		}
	}
	if len(v.Filter) > 0 && !json.Valid(v.Filter) {
		return fault.Invalidf("filter", "must be JSON")
	}
	if len(v.Frequency) > 0 && !json.Valid(v.Frequency) {
		return fault.Invalidf("frequency", "must be JSON")
	}
	switch {
	case v.Endpoint != "":
		return needEndpoint("endpoint", &v.Endpoint, ParseEndpoint)
	case v.Mode == ModePush:
		return fault.Invalidf("endpoint", "is required for a push subscription")
	}
	return nil
}

func (v *Secret) kind() Kind    { return KindSecret }
func (v *Secret) key() string   { return v.ID }
func (v *Secret) owner() string { return "" }
func (v *Secret) refs() []ref   { return nil }
func (v *Secret) validate() error {
	if err := needID("id", v.ID); err != nil {
		return err
	}
	return needText("hash", v.Hash, 200)
}
