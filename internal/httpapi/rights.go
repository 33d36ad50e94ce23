package httpapi

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/rights"
)

// The rights engine's decisions (#19): an institution reads those of the rights it is
// authorized for (rightsfacts.Access decides and records); policy makers read counts.

// rightsCaller authenticates an application by its access token.
func (s *Server) rightsCaller(r *http.Request) (exchange.Caller, error) {
	token, ok := bearerToken(r)
	if !ok {
		return exchange.Caller{}, fault.Unauthorizedf("send an access token of an application as 'Authorization: Bearer <token>'")
	}
	claims, err := s.oauth.Verify(r.Context(), token)
	if err != nil {
		return exchange.Caller{}, fault.Unauthorizedf("the access token is not valid")
	}
	return exchange.Caller{ClientID: claims.ClientID, Institution: claims.Institution}, nil
}

// requestBytes is what the audit record hashes of a GET: its method and URL.
func requestBytes(r *http.Request) []byte { return []byte(r.Method + " " + r.URL.RequestURI()) }

func (s *Server) personRights(w http.ResponseWriter, r *http.Request) error {
	caller, err := s.rightsCaller(r)
	if err != nil {
		return err
	}
	out, err := s.rights.Rights(r.Context(), caller, r.PathValue("person"), requestBytes(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) rightExplanation(w http.ResponseWriter, r *http.Request) error {
	caller, err := s.rightsCaller(r)
	if err != nil {
		return err
	}
	day, err := date.Parse(r.URL.Query().Get("date"))
	if err != nil {
		return fault.Invalidf("date", "%v", err)
	}
	ex, err := s.rights.Explanation(r.Context(), caller, r.PathValue("person"), r.PathValue("right"), day, requestBytes(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ex)
	return nil
}

// rightsStats serves pseudonymous counts of the holders of each right, broken down by
// ?by= (region, age_band, household_type), cells under rights.K suppressed; CSV with
// ?format=csv or Accept: text/csv. An administrator or any application may read them.
func (s *Server) rightsStats(w http.ResponseWriter, r *http.Request) error {
	token, ok := bearerToken(r)
	if !ok {
		return fault.Unauthorizedf("send an administrator token or an access token as 'Authorization: Bearer <token>'")
	}
	if _, err := s.dir.Admin(r.Context(), token); err != nil {
		if _, verr := s.oauth.Verify(r.Context(), token); verr != nil {
			return fault.Unauthorizedf("the token is neither an administrator token nor a valid access token")
		}
	}
	by, err := rights.ParseBy(r.URL.Query().Get("by"))
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format == "" && strings.Contains(r.Header.Get("Accept"), "text/csv") {
		format = "csv"
	}
	if format != "" && format != "csv" && format != "json" {
		return fault.Invalidf("format", "%q: use csv or json", format)
	}
	counts, err := s.rights.Engine.Store.Counts(r.Context())
	if err != nil {
		return err
	}
	cells := rights.Tabulate(counts, by)
	if format != "csv" {
		writeJSON(w, http.StatusOK, map[string]any{"k": rights.K, "by": by, "cells": cells})
		return nil
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	cw := csv.NewWriter(w)
	cw.Write(append(append([]string{"right"}, by...), "persons"))
	for _, c := range cells {
		row := []string{c.Right}
		for _, d := range by {
			row = append(row, c.By[d])
		}
		n := "<" + strconv.Itoa(rights.K)
		if c.Persons != nil {
			n = strconv.Itoa(*c.Persons)
		}
		cw.Write(append(row, n))
	}
	cw.Flush()
	return cw.Error()
}
