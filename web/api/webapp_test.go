package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"strings"
	"testing"

	"adcensus/web/api"
	"adcensus/web/auth"
)

func TestAdvert(t *testing.T) {
	x := MustIndex(t)
	srv := MustServer(t, x, docSource(x), api.Options{})
	r := MustGet(t, srv, "/api/adverts/a2")
	wantStatus(t, r, "/api/adverts/a2", http.StatusOK)
	got := decode[api.AdvertResponse](t, r)
	if got.ID != "a2" || got.Arena != "a" || got.City != "Göteborg" || got.PersonID != "P2" || got.NetworkID != "N1" {
		t.Errorf("advert a2: %+v", got)
	}
	if got.Body == "" || got.PostedAt.IsZero() {
		t.Errorf("advert a2 lacks its body or date: %+v", got)
	}
	for _, c := range got.Contacts {
		if !strings.HasPrefix(c, "tel:") {
			t.Errorf("contact %q is not a pseudonym", c)
		}
	}
	wantStatus(t, MustGet(t, srv, "/api/adverts/nope"), "/api/adverts/nope", http.StatusNotFound)
	wantStatus(t, MustGet(t, srv, "/api/adverts/%20x"), "/api/adverts/%20x", http.StatusBadRequest)
}

func TestExplain(t *testing.T) {
	x := MustIndex(t)
	type explanation struct {
		AdID   string `json:"ad_id"`
		Person string `json:"person_id"`
	}
	var asked []string
	explain := func(_ context.Context, id string) (any, bool, error) {
		asked = append(asked, id)
		switch id {
		case "a2":
			return explanation{AdID: "a2", Person: "P2"}, true, nil
		case "boom":
			return nil, false, errors.New("cluster state unreadable")
		}
		return nil, false, nil
	}
	srv := MustServer(t, x, docSource(x), api.Options{Explain: explain})
	r := MustGet(t, srv, "/api/adverts/a2/explain")
	wantStatus(t, r, "explain a2", http.StatusOK)
	if got := decode[explanation](t, r); got.Person != "P2" {
		t.Errorf("explain a2: %+v", got)
	}
	wantStatus(t, MustGet(t, srv, "/api/adverts/zz/explain"), "explain zz", http.StatusNotFound)
	wantStatus(t, MustGet(t, srv, "/api/adverts/boom/explain"), "explain boom", http.StatusInternalServerError)
	if len(asked) != 3 {
		t.Errorf("explain asked %v", asked)
	}
	none := MustServer(t, x, docSource(x), api.Options{})
	wantStatus(t, MustGet(t, none, "/api/adverts/a2/explain"), "explain without state", http.StatusNotImplemented)
}

// The Swedish-Excel variant of every CSV export: BOM, ";", the same cells.
func TestExportsSwedishExcel(t *testing.T) {
	x := MustIndex(t)
	srv := MustServer(t, x, docSource(x), api.Options{DefaultMinCell: -1})
	for _, tc := range []struct{ path, file string }{
		{"/api/export/counts?by=arena,city", "counts"},
		{"/api/export/facts?min_cell=0", "facts"},
		{"/api/overlap?min_cell=0", "overlap"},
	} {
		std := MustGet(t, srv, tc.path+"&format=csv")
		xl := MustGet(t, srv, tc.path+"&format=csv-excel")
		wantStatus(t, std, tc.path, http.StatusOK)
		wantStatus(t, xl, tc.path, http.StatusOK)
		if got, want := xl.header.Get("Content-Disposition"), `attachment; filename="`+tc.file+`-excel.csv"`; got != want {
			t.Errorf("%s: Content-Disposition %q, want %q", tc.path, got, want)
		}
		body, ok := bytes.CutPrefix(xl.body, []byte("\uFEFF"))
		if !ok {
			t.Fatalf("%s csv-excel: no byte-order mark", tc.path)
		}
		rd := csv.NewReader(bytes.NewReader(body))
		rd.Comma = ';'
		xrecs, err := rd.ReadAll()
		if err != nil {
			t.Fatalf("%s csv-excel: %v", tc.path, err)
		}
		srecs, err := csv.NewReader(bytes.NewReader(std.body)).ReadAll()
		if err != nil {
			t.Fatalf("%s csv: %v", tc.path, err)
		}
		if len(xrecs) != len(srecs) || len(srecs) < 2 {
			t.Fatalf("%s: %d excel records, %d standard", tc.path, len(xrecs), len(srecs))
		}
		for i := range srecs {
			for j := range srecs[i] {
				// Decimal numbers differ only in their separator.
				if want := strings.Replace(srecs[i][j], ".", ",", 1); xrecs[i][j] != want && xrecs[i][j] != srecs[i][j] {
					t.Errorf("%s record %d field %d: excel %q, standard %q", tc.path, i, j, xrecs[i][j], srecs[i][j])
				}
			}
		}
		if tc.file == "counts" && !strings.Contains(string(body), "Göteborg") {
			t.Errorf("counts by city lost Göteborg: %s", body)
		}
	}
	wantStatus(t, MustGet(t, srv, "/api/export/counts?format=xlsx"), "xlsx", http.StatusBadRequest)
	wantStatus(t, MustGet(t, srv, "/api/overlap?format=xml"), "overlap xml", http.StatusBadRequest)
}

// The overlap CSV carries the estimate with a decimal comma in the Excel
// variant.
func TestOverlapCSVEstimate(t *testing.T) {
	x := MustIndex(t)
	srv := MustServer(t, x, docSource(x), api.Options{DefaultMinCell: -1})
	r := MustGet(t, srv, "/api/overlap?min_cell=0&format=csv-excel")
	wantStatus(t, r, "overlap csv-excel", http.StatusOK)
	var estimate []string
	rd := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\uFEFF"))))
	rd.Comma = ';'
	recs, err := rd.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if rec[0] == "estimate" {
			estimate = rec
		}
	}
	if estimate == nil {
		t.Skipf("no estimate on this fixture: %q", recs)
	}
	for _, v := range estimate[3:6] { // estimate, ci_low, ci_high (then the note)
		if !strings.Contains(v, ",") || strings.Contains(v, ".") {
			t.Errorf("estimate value %q: want a decimal comma", v)
		}
	}
}

// The web app is served at / behind the API's security headers; /api/
// paths stay the API's.
func TestAppMounted(t *testing.T) {
	x := MustIndex(t)
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<!doctype html><title>app " + r.URL.Path + "</title>"))
	})
	srv := MustServer(t, x, docSource(x), api.Options{App: app})
	r := MustDo(t, srv, http.MethodGet, "/")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "app /") {
		t.Fatalf("GET /: %d %s", r.status, r.body)
	}
	if r.header.Get("Content-Security-Policy") == "" || r.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("GET / without the security headers: %v", r.header)
	}
	wantStatus(t, MustGet(t, srv, "/api/nothing"), "/api/nothing", http.StatusNotFound)
	if r := MustDo(t, srv, http.MethodPost, "/"); r.status != http.StatusNotFound && r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d", r.status)
	}
	if r := MustDo(t, srv, http.MethodPost, "/api/search"); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST /api/search: %d, want 405", r.status)
	}
}

func TestSchedules(t *testing.T) {
	x := MustIndex(t)
	calls := 0
	list := func(context.Context) (any, int, error) {
		calls++
		return []map[string]string{{"arena": "a", "spec": "0 6 * * 1", "next": "2026-12-14T05:00:00Z"}}, 1, nil
	}
	st, err := auth.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := MustServer(t, x, docSource(x), api.Options{Schedules: list, Auth: st})
	srv.Client().Transport = bearer{srv.Client().Transport, MustToken(t, st, auth.Operator)}
	r := MustGet(t, srv, "/api/schedules")
	wantStatus(t, r, "/api/schedules", http.StatusOK)
	if got := decode[[]map[string]string](t, r); len(got) != 1 || got[0]["spec"] != "0 6 * * 1" || calls != 1 {
		t.Errorf("schedules: %v (%d calls)", got, calls)
	}
	none := MustServer(t, x, docSource(x), api.Options{Auth: st})
	none.Client().Transport = bearer{none.Client().Transport, MustToken(t, st, auth.Admin)}
	wantStatus(t, MustGet(t, none, "/api/schedules"), "schedules without crawl state", http.StatusNotImplemented)
}
