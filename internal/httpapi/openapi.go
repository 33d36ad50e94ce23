package httpapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
	"sync"

	"github.com/crossroads-hub/crossroads/internal/civil"
	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/derived"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/oauth"
)

// openAPIDocument is the hub's OpenAPI 3.0.3 document, written with the DCI registries
// under the default prefix.
//
//go:embed openapi.json
var openAPIDocument []byte

// documentedDCIPrefix is the prefix of the DCI paths in openapi.json.
const documentedDCIPrefix = "/dci"

// openAPIDocs caches the document for each DCI prefix served (one or two in a process).
var openAPIDocs sync.Map // prefix → []byte

// openAPIFor returns the document with its DCI paths under prefix ("" for the root).
func openAPIFor(prefix string) ([]byte, error) {
	if prefix == documentedDCIPrefix {
		return openAPIDocument, nil
	}
	if b, ok := openAPIDocs.Load(prefix); ok {
		return b.([]byte), nil
	}
	b, err := rewriteDCIPrefix(openAPIDocument, prefix)
	if err != nil {
		return nil, err
	}
	v, _ := openAPIDocs.LoadOrStore(prefix, b)
	return v.([]byte), nil
}

// rewriteDCIPrefix moves the paths under /dci of doc under prefix. The page at /dci
// itself moves to prefix, or goes when the registries are at the root (it is not served).
func rewriteDCIPrefix(doc []byte, prefix string) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, fault.Wrap(err, "read the OpenAPI document")
	}
	paths, _ := m["paths"].(map[string]any)
	moved := make(map[string]any, len(paths))
	for k, v := range paths {
		switch {
		case k == documentedDCIPrefix:
			if prefix != "" {
				moved[prefix] = v
			}
		case strings.HasPrefix(k, documentedDCIPrefix+"/"):
			moved[prefix+strings.TrimPrefix(k, documentedDCIPrefix)] = v
		default:
			moved[k] = v
		}
	}
	m["paths"] = moved
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, fault.Wrap(err, "write the OpenAPI document")
	}
	return buf.Bytes(), nil
}

// openAPI serves GET /openapi.json: the hub's OpenAPI document, with the DCI paths under
// the prefix this hub mounts them at.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	b, err := openAPIFor(s.dciPrefix)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, b)
	return nil
}

// dciEndpoints are the endpoints under {prefix}/{registry}/registry/; async ones are
// served only when the hub keeps transactions.
var dciEndpoints = []struct {
	Path, What string
	Async      bool
}{
	{"sync/search", "synchronous search", false},
	{"search", "asynchronous search (ACK, answer by callback)", true},
	{"sync/txn/status", "synchronous transaction status", true},
	{"txn/status", "asynchronous transaction status", true},
	{"subscribe", "subscribe (ACK, answer by callback)", true},
	{"unsubscribe", "unsubscribe (ACK, answer by callback)", true},
	{"notify", "changes notified by an authentic source of the registry (signed), routed to subscribers", true},
	{"on-search", "callback of an asynchronous source the hub asked (signed)", true},
	{"on-subscribe", "callback of an asynchronous source (signed)", true},
	{"on-unsubscribe", "callback of an asynchronous source (signed)", true},
	{"txn/on-status", "callback of an asynchronous source (signed)", true},
}

// registryCalls describe the calls of one registry only (dci.Registry.Calls), listed
// after its common endpoints (the routes: checkCalls, enrollmentUpdates).
var registryCalls = map[string]struct {
	What  string
	Async bool
}{
	"sync/enrolled":               {"is a person enrolled (in a programme)? Answered without an envelope", false},
	"sync/enrollment/updates":     {"enrolment updates from an authentic source of the registry (signed)", true},
	"sync/disabled":               {"is a person disabled?", false},
	"sync/get-disability-details": {"a person's functional difficulties", false},
	"sync/get-disability-support": {"the support a person's difficulties call for", false},
}

type dciPageEndpoint struct{ Path, What string }

type dciPageRegistry struct {
	Code, Name string
	Endpoints  []dciPageEndpoint
	IDTypes    []string
}

// registryIDTypes lists the identifier types (idtype-value query.type) the built-in
// source of the registry of kind answers look-ups by: the names other registries use for
// the same identifier included. openapi.json lists them too (x-identifier-types of the
// registry parameter); a test keeps the two equal.
func registryIDTypes(kind string) []string {
	if kind == "civil" {
		return civil.IDTypes()
	}
	return derived.IDTypes(kind)
}

type dciPageData struct {
	Registries []dciPageRegistry
	TokenPath  string
	Locations  bool
}

var dciPageTemplate = template.Must(template.New("dci").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Crossroads hub: DCI registries</title>
<style>
body { font-family: sans-serif; margin: 2em; max-width: 64em; line-height: 1.4; }
table { border-collapse: collapse; }
th, td { border: 1px solid #bbb; padding: .4em .7em; text-align: left; vertical-align: top; }
ul.endpoints { margin: 0; padding-left: 1.2em; }
</style>
</head>
<body>
<h1>Crossroads hub: DCI registries</h1>
<p>The hub answers for these registries as the DCI standard
(<a href="https://standards.spdci.org">standards.spdci.org</a>) defines them. Every endpoint
takes a POST of a DCI message with <code>Content-Type: application/json</code> and an access
token (<code>Authorization: Bearer …</code>) from <code>POST {{.TokenPath}}</code>.</p>
<table>
<thead>
<tr><th>Registry</th><th>Name</th><th>Endpoints (POST)</th><th>Identifier types (<code>idtype-value</code>)</th></tr>
</thead>
<tbody>
{{- range .Registries}}
<tr>
<td><code>{{.Code}}</code></td>
<td>{{.Name}}</td>
<td><ul class="endpoints">
{{- range .Endpoints}}
<li><code>{{.Path}}</code>: {{.What}}</li>
{{- end}}
</ul></td>
<td>{{range $i, $t := .IDTypes}}{{if $i}}, {{end}}<code>{{$t}}</code>{{end}}</td>
</tr>
{{- end}}
</tbody>
</table>
<p>A look-up (<code>query_type</code> <code>idtype-value</code>) names its identifier by
<code>query.type</code>: any of the types listed for the registry, in any case (the names
other registries use for a person number, a birth registration number, a farmer's
identifier). A registry served by a remote source passes other types on to it.</p>
<h2>See also</h2>
<ul>
<li><a href="/openapi.json">/openapi.json</a>: the hub's OpenAPI document</li>
<li><a href="/.well-known/jwks.json">/.well-known/jwks.json</a>: the hub's public keys</li>
{{- if .Locations}}
<li><a href="/.well-known/locations.json">/.well-known/locations.json</a>: the nation's regions and municipalities</li>
{{- end}}
</ul>
</body>
</html>
`))

// dciPage serves GET {prefix}: a page listing the DCI registries and their endpoints.
func (s *Server) dciPage(w http.ResponseWriter, r *http.Request) error {
	data := dciPageData{TokenPath: oauth.TokenPath, Locations: s.pop != nil}
	for _, reg := range dci.Registries {
		pr := dciPageRegistry{Code: reg.Path, Name: reg.Name, IDTypes: registryIDTypes(reg.Kind)}
		for _, ep := range dciEndpoints {
			if ep.Async && s.async == nil {
				continue
			}
			pr.Endpoints = append(pr.Endpoints, dciPageEndpoint{Path: s.dciPrefix + "/" + reg.Path + "/registry/" + ep.Path, What: ep.What})
		}
		for _, path := range reg.Calls {
			if c := registryCalls[path]; !c.Async || s.async != nil {
				pr.Endpoints = append(pr.Endpoints, dciPageEndpoint{Path: s.dciPrefix + "/" + reg.Path + "/registry/" + path, What: c.What})
			}
		}
		data.Registries = append(data.Registries, pr)
	}
	var buf bytes.Buffer
	if err := dciPageTemplate.Execute(&buf, data); err != nil {
		return fault.Wrap(err, "render the DCI page")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}
