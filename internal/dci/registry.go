package dci

// Registry is one of the DCI registries the hub fronts: how its path, the directory, the
// standard's documents and its records name it. Registries is the one table of them; the
// HTTP routes, the /dci page, the answers, the notifications and the built-in sources'
// records all read it (TestRegistriesAgreeWithDocuments holds it to the documents).
type Registry struct {
	Path       string // the path segment under the hub's DCI prefix: {prefix}/crvs/registry/…
	Kind       string // the directory's registry type, also the built-in source's name (endpoint builtin:civil)
	Name       string // for people: "Civil registration and vital statistics"
	Type       string // data.reg_type of the hub's answers and notifications, as the registry's document gives it
	RecordType string // data.reg_record_type, and the @type of the built-in source's records
	Document   string // the standard's OpenAPI document of the registry
	// Calls are the registry's own calls under registry/, which its document adds to the
	// ones every registry has (search, subscribe, notify, txn/status and their callbacks).
	Calls []string
}

// Registries are the five registries of the standard, in the order the /dci page lists them.
var Registries = []Registry{
	{Path: "crvs", Kind: "civil", Name: "Civil registration and vital statistics",
		Type: "ns:org:RegistryType:Civil", RecordType: "Person", Document: "crvs_api_v1.0.0.yaml"},
	{Path: "sr", Kind: "social", Name: "Social registry",
		Type: "ns:org:RegistryType:Social", RecordType: "Member", Document: "social_api_v1.0.0.yaml"},
	{Path: "ibr", Kind: "beneficiary", Name: "Integrated beneficiary registry",
		Type: "ns:org:RegistryType:IBR", RecordType: "Beneficiary", Document: "ibr_api_v1.0.0.yaml",
		Calls: []string{"sync/enrolled", "sync/enrollment/updates"}},
	{Path: "dr", Kind: "disability", Name: "Disability registry",
		Type: "ns:org:RegistryType:DR", RecordType: "DisabilityInfo", Document: "dr_api_v1.0.0.yaml",
		Calls: []string{"sync/disabled", "sync/get-disability-details", "sync/get-disability-support"}},
	{Path: "fr", Kind: "farmer", Name: "Farmer registry",
		Type: "ns:org:RegistryType:FR", RecordType: "Farmer", Document: "fr_api_v1.0.0.yaml"},
}

// RegistryPaths lists the registries' path segments, in the table's order.
func RegistryPaths() []string {
	paths := make([]string, len(Registries))
	for i, r := range Registries {
		paths[i] = r.Path
	}
	return paths
}

// RegistryAt returns the registry at path segment path ("crvs").
func RegistryAt(path string) (Registry, bool) {
	for _, r := range Registries {
		if r.Path == path {
			return r, true
		}
	}
	return Registry{}, false
}

// RegistryOf returns the registry of the directory's registry type kind ("civil"); the
// zero Registry (no path, no types) for a kind the standard has no registry for.
func RegistryOf(kind string) Registry {
	for _, r := range Registries {
		if r.Kind == kind {
			return r
		}
	}
	return Registry{}
}
