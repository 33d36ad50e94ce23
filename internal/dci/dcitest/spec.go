// Package dcitest validates DCI messages against the OpenAPI documents of the standard, for
// tests only: it pulls in kin-openapi, which must stay out of the binary.
//
// The documents live outside the module, in ../shared/dci/spec next to the module root (or
// where CROSSROADS_DCI_SPEC says); the folder is found by walking up from the test's working
// directory to go.mod. When it is absent (a clone on its own), the tests still run: Spec
// and the Validate functions say so in the test's log, once per test, with the marker
// MissingMarker, and validate nothing. Only the tests about the documents themselves
// (SpecDir, SamplesDir, Load by name) skip. scripts/test counts both and prints them.
//
// Three upstream bugs are worked around so that correct messages validate: the IBR document
// gives schemas where responses belong, the FR document writes its on-subscribe operation
// beside an empty "post: null" instead of under it (both repaired on load), and the DR
// document types data.reg_records as one object (DR answers are checked with reg_records
// folded to one record).
package dcitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// MissingMarker begins the line a test logs when it ran without the DCI documents.
const MissingMarker = "dcitest: DCI specs not found"

var (
	specOnce sync.Once
	specPath string
	specErr  error
	told     sync.Map // testing.TB -> true: told that the documents are missing
)

// specRoot finds the documents' folder once per test binary: CROSSROADS_DCI_SPEC, else
// ../shared/dci/spec beside the module root.
func specRoot() (string, error) {
	specOnce.Do(func() {
		if dir := os.Getenv("CROSSROADS_DCI_SPEC"); dir != "" {
			specPath = dir
		} else {
			dir, err := os.Getwd()
			if err != nil {
				specErr = err
				return
			}
			for {
				if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
					break
				}
				parent := filepath.Dir(dir)
				if parent == dir {
					specErr = errors.New("no go.mod above the working directory")
					return
				}
				dir = parent
			}
			specPath = filepath.Join(dir, "..", "shared", "dci", "spec")
		}
		if _, err := os.Stat(specPath); err != nil {
			specErr = fmt.Errorf("%s at %s (set CROSSROADS_DCI_SPEC to the folder of the DCI OpenAPI documents)", MissingMarker, specPath)
		}
	})
	return specPath, specErr
}

// SpecDir returns the folder holding the DCI OpenAPI documents, or skips the test: for
// tests about the documents themselves.
func SpecDir(t testing.TB) string {
	t.Helper()
	dir, err := specRoot()
	if err != nil {
		t.Skipf("%v", err)
	}
	return dir
}

// Spec returns the path of the DCI document name ("crvs_api_v1.0.0.yaml") for
// ValidateRequest and ValidateResponse. Without the documents it returns name and logs,
// once per test, that the test runs without validating messages against them.
func Spec(t testing.TB, name string) string {
	t.Helper()
	if !present(t) {
		return name
	}
	return filepath.Join(specPath, name)
}

// Present reports whether the DCI documents are there; when not, it says so in the
// test's log (once), so that a test can run its exchanges and leave out only the
// comparison with the documents.
func Present(t testing.TB) bool { t.Helper(); return present(t) }

// present reports whether the documents are there; when not, it tells the test's log
// once.
func present(t testing.TB) bool {
	t.Helper()
	_, err := specRoot()
	if err == nil {
		return true
	}
	if _, done := told.LoadOrStore(t, true); !done {
		t.Logf("%v: messages are not validated against the DCI schemas", err)
	}
	return false
}

// SamplesDir returns the folder of DCI sample messages (../shared/dci/samples), or skips the test.
func SamplesDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(SpecDir(t), "..", "samples")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("dcitest: DCI samples not found at %s", dir)
	}
	return dir
}

var docs sync.Map // absolute path -> *loaded

type loaded struct {
	once sync.Once
	doc  *openapi3.T
	err  error
}

// Load returns the parsed OpenAPI document specPath: a file name in SpecDir
// ("crvs_api_v1.0.0.yaml") or a path. Documents are parsed once per test binary.
func Load(t testing.TB, specPath string) *openapi3.T {
	t.Helper()
	if !filepath.IsAbs(specPath) && filepath.Dir(specPath) == "." {
		specPath = filepath.Join(SpecDir(t), specPath)
	}
	v, _ := docs.LoadOrStore(specPath, &loaded{})
	l := v.(*loaded)
	l.once.Do(func() { l.doc, l.err = load(specPath) })
	if l.err != nil {
		t.Fatalf("dcitest: load %s: %v", specPath, l.err)
	}
	return l.doc
}

func load(specPath string) (*openapi3.T, error) {
	data, err := os.ReadFile(specPath)
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = true
	return loader.LoadFromDataWithPath(repair(data), &url.URL{Path: filepath.ToSlash(specPath)})
}

// schemaAsResponse matches a response that refers to a schema instead of a response
// object, an upstream bug of the IBR document (sync/enrolled, sync/enrollment/updates)
// that stops kin-openapi from loading it.
var schemaAsResponse = regexp.MustCompile(`(?m)^( +)(default|'[0-9]{3}'):\n( +)\$ref: '#/components/schemas/([^']+)'$`)

// repair wraps such schemas in a response object, and moves an operation written beside
// an empty "post: null" under it, leaving the rest of the document alone.
func repair(data []byte) []byte {
	data = postBeside(data)
	return schemaAsResponse.ReplaceAllFunc(data, func(m []byte) []byte {
		g := schemaAsResponse.FindSubmatch(m)
		in := string(g[3])
		return fmt.Appendf(nil, "%s%s:\n%sdescription: schema given as a response upstream; wrapped by dcitest\n%scontent:\n%s  application/json:\n%s    schema:\n%s      $ref: '#/components/schemas/%s'",
			g[1], g[2], in, in, in, in, in, g[4])
	})
}

// postBeside repairs a path item whose operation's members follow "post: null" at the
// path item's level (FR's /registry/on-subscribe): they are indented under post.
func postBeside(data []byte) []byte {
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "post: null" {
			continue
		}
		indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
		lines[i] = strings.TrimSuffix(lines[i], " null")
		for j := i + 1; j < len(lines); j++ {
			if n := len(lines[j]) - len(strings.TrimLeft(lines[j], " ")); lines[j] != "" && n < indent {
				break
			}
			if lines[j] != "" {
				lines[j] = "  " + lines[j]
			}
		}
	}
	return []byte(strings.Join(lines, "\n"))
}

// ValidateResponse fails t unless body is a valid JSON answer of POST path with the given
// HTTP status in the document specPath. The status selects the documented response; an
// undocumented error status (≥ 400) selects HttpErrorResponse, and any other falls back to
// "default" as OpenAPI does. So an ACK (200, 202) is checked against the endpoint's default
// response, a sync answer (200) against the on-search envelope, and an HTTPErrors body
// (400, 401, 415, …) against HttpErrorResponse.
//
// Without the documents it validates nothing and says so in the test's log (present).
func ValidateResponse(t testing.TB, specPath, path string, status int, body []byte) {
	t.Helper()
	if !present(t) {
		return
	}
	if err := ResponseError(t, specPath, path, status, body); err != nil {
		t.Errorf("dcitest: response %d of %s is not valid against %s: %v\nbody: %s", status, path, filepath.Base(specPath), err, body)
	}
}

// ResponseError reports why body is not a valid answer of POST path with status, or nil.
func ResponseError(t testing.TB, specPath, path string, status int, body []byte) error {
	t.Helper()
	op := operation(t, specPath, path)
	ref := op.Responses.Status(status)
	if ref == nil && status >= 400 {
		// The documents give HttpErrorResponse for 401, 403 and 500 only; the hub uses it
		// for every error status (400, 413, 415, 429, 503), so those are checked against it.
		ref = Load(t, specPath).Components.Responses["HttpErrorResponse"]
	}
	if ref == nil {
		ref = op.Responses.Default()
	}
	if ref == nil || ref.Value == nil {
		t.Fatalf("dcitest: %s %s documents no response for status %d", specPath, path, status)
	}
	schema := jsonSchema(t, ref.Value.Content, specPath, path+" "+strconv.Itoa(status))
	return check(specPath, Load(t, specPath), schema, body)
}

// ValidateRequest fails t unless body is a valid JSON request body of POST path in specPath.
// Without the documents it validates nothing and says so in the test's log (present).
func ValidateRequest(t testing.TB, specPath, path string, body []byte) {
	t.Helper()
	if !present(t) {
		return
	}
	if err := RequestError(t, specPath, path, body); err != nil {
		t.Errorf("dcitest: request to %s is not valid against %s: %v", path, filepath.Base(specPath), err)
	}
}

// RequestError reports why body is not a valid JSON request body of POST path, or nil.
func RequestError(t testing.TB, specPath, path string, body []byte) error {
	t.Helper()
	op := operation(t, specPath, path)
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		t.Fatalf("dcitest: %s %s has no request body", specPath, path)
	}
	schema := jsonSchema(t, op.RequestBody.Value.Content, specPath, path+" request")
	return check(specPath, Load(t, specPath), schema, body)
}

// ValidateCallbackHeader fails t unless the header of body, a callback (on-search,
// on-subscribe, on-unsubscribe, txn/on-status, notify), is valid against the header
// schema of POST path's request body in specPath.
func ValidateCallbackHeader(t testing.TB, specPath, path string, body []byte) {
	t.Helper()
	if err := CallbackHeaderError(t, specPath, path, body); err != nil {
		t.Errorf("dcitest: header of %s is not valid against %s: %v\nbody: %s", path, filepath.Base(specPath), err, body)
	}
}

// CallbackHeaderError reports why the header of body is not valid against the header
// schema of POST path's request body in specPath, or nil.
func CallbackHeaderError(t testing.TB, specPath, path string, body []byte) error {
	t.Helper()
	if !present(t) {
		return nil
	}
	op := operation(t, specPath, path)
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		t.Fatalf("dcitest: %s %s has no request body", specPath, path)
	}
	schema := jsonSchema(t, op.RequestBody.Value.Content, specPath, path+" request")
	header := schema.Properties["header"]
	if header == nil || header.Value == nil {
		t.Fatalf("dcitest: %s %s: the request body has no header", specPath, path)
	}
	var env struct {
		Header json.RawMessage `json:"header"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Header == nil {
		return fmt.Errorf("no header: %v", err)
	}
	return Check(Load(t, specPath), header.Value, env.Header)
}

func check(specPath string, doc *openapi3.T, schema *openapi3.Schema, body []byte) error {
	if !recordsAsObject[filepath.Base(specPath)] {
		err := Check(doc, schema, body)
		if err != nil && bytes.Contains(body, []byte(`"txn_status"`)) {
			// The search branch of txn_status is, in the CRVS document and others, a $ref
			// to an example schema that types reg_records as one object; a status answer
			// carries the search answer as on-search does, with an array. The answer is
			// then checked with the records of txn_status folded, everything else as is.
			var v any
			if json.Unmarshal(body, &v) == nil {
				folded, _ := json.Marshal(foldUnder(v, "txn_status"))
				if Check(doc, schema, folded) == nil {
					return nil
				}
			}
		}
		return err
	}
	// The DR document types reg_records as one object in its search answers and as a
	// list in its disability details and support answers: the answer is checked as sent,
	// then with its records folded.
	if Check(doc, schema, body) == nil {
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	folded, _ := json.Marshal(foldRecords(v))
	return Check(doc, schema, folded)
}

// foldRecords rewrites every "reg_records" array into its first element ({} when empty).
//
// The DR document types data.reg_records as one object, while the CRVS, SR, IBR and FR
// documents (and the standard's notes) type it as an array of records; the hub always
// sends an array. Validating a DR answer through foldRecords checks everything else in it.
func foldRecords(v any) any {
	switch v := v.(type) {
	case []any:
		for i := range v {
			v[i] = foldRecords(v[i])
		}
	case map[string]any:
		for k, e := range v {
			if list, ok := e.([]any); ok && k == "reg_records" {
				if len(list) == 0 {
					v[k] = map[string]any{}
				} else {
					v[k] = foldRecords(list[0])
				}
				continue
			}
			v[k] = foldRecords(e)
		}
	}
	return v
}

// foldUnder applies foldRecords to the values of members named key, wherever they are.
func foldUnder(v any, key string) any {
	switch v := v.(type) {
	case []any:
		for i := range v {
			v[i] = foldUnder(v[i], key)
		}
	case map[string]any:
		for k, e := range v {
			if k == key {
				v[k] = foldRecords(e)
			} else {
				v[k] = foldUnder(e, key)
			}
		}
	}
	return v
}

// recordsAsObject lists the documents that want data.reg_records as an object.
var recordsAsObject = map[string]bool{"dr_api_v1.0.0.yaml": true}

// Check validates the JSON document body against schema, with format validation on (so
// date-time values must carry a time zone).
func Check(doc *openapi3.T, schema *openapi3.Schema, body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	v = plain(v)
	return doc.ValidateSchemaJSON(schema, v, openapi3.EnableFormatValidation(), openapi3.MultiErrors(), openapi3.DisableSchemaErrorDetails())
}

// plain turns json.Number into float64, as kin-openapi expects, after UseNumber kept
// integers exact long enough to reject non-JSON input early.
func plain(v any) any {
	switch v := v.(type) {
	case json.Number:
		f, _ := v.Float64()
		return f
	case []any:
		for i := range v {
			v[i] = plain(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = plain(v[k])
		}
	}
	return v
}

func operation(t testing.TB, specPath, path string) *openapi3.Operation {
	t.Helper()
	doc := Load(t, specPath)
	item := doc.Paths.Value(path)
	switch {
	case item == nil:
	case item.Post != nil:
		return item.Post
	case item.Get != nil: // the well-known documents
		return item.Get
	}
	t.Fatalf("dcitest: %s has no POST or GET %s", specPath, path)
	return nil
}

func jsonSchema(t testing.TB, content openapi3.Content, specPath, what string) *openapi3.Schema {
	t.Helper()
	mt := content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		t.Fatalf("dcitest: %s %s has no application/json schema", specPath, what)
	}
	return mt.Schema.Value
}

// Validate checks the whole document (for tests that want to know the spec itself loads).
func Validate(t testing.TB, specPath string) error {
	t.Helper()
	return Load(t, specPath).Validate(context.Background())
}
