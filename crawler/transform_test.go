package crawler_test

import (
	"strings"
	"testing"
	"time"

	"adcensus/crawler"
)

func TestParseSwedishDate(t *testing.T) {
	sthlm, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	// 10 March 2026, 08:30 in Stockholm (CET, +01:00).
	now := time.Date(2026, 3, 10, 8, 30, 0, 0, sthlm)
	for _, tc := range []struct{ in, want string }{
		{"publicerad 3 mars 2026", "2026-03-03T00:00:00+01:00"},
		{"3 mar 2026 14:05", "2026-03-03T14:05:00+01:00"},
		{"Publicerad: 3. mars 2026 kl. 14.05", "2026-03-03T14:05:00+01:00"},
		{"idag 09:12", "2026-03-10T09:12:00+01:00"},
		{"Idag kl. 07:01", "2026-03-10T07:01:00+01:00"},
		{"igår 14:05", "2026-03-09T14:05:00+01:00"},
		{"i går, 23:59", "2026-03-09T23:59:00+01:00"},
		{"igar 14:05", "2026-03-09T14:05:00+01:00"},
		{"2026-03-03", "2026-03-03T00:00:00+01:00"},
		{"2026-07-03 14:05", "2026-07-03T14:05:00+02:00"}, // summer time
		{"20 december", "2025-12-20T00:00:00+01:00"},      // no year, would be in the future
		{"2026-03-03T10:00:00Z", "2026-03-03T10:00:00Z"},
	} {
		got, err := crawler.ParseSwedishDate(tc.in, now)
		if err != nil {
			t.Errorf("ParseSwedishDate(%q): %v", tc.in, err)
			continue
		}
		want, _ := time.Parse(time.RFC3339, tc.want)
		if !got.Equal(want) {
			t.Errorf("ParseSwedishDate(%q) = %v, want %v", tc.in, got, want)
		}
	}
	// Relative days follow the Stockholm calendar, not UTC: 00:30 on 11 March
	// in Stockholm is still 10 March in UTC.
	late := time.Date(2026, 3, 10, 23, 30, 0, 0, time.UTC)
	got, err := crawler.ParseSwedishDate("igår 12:00", late)
	if err != nil || !got.Equal(time.Date(2026, 3, 10, 12, 0, 0, 0, sthlm)) {
		t.Errorf("igår at %v = %v, %v; want 10 March 12:00 Stockholm", late, got, err)
	}
	for _, bad := range []string{"", "Ålder: 26 år", "31 februari 2026", "2026-13-01", "snart"} {
		if got, err := crawler.ParseSwedishDate(bad, now); err == nil {
			t.Errorf("ParseSwedishDate(%q) = %v, want error", bad, got)
		}
	}
}

func TestFieldTransforms(t *testing.T) {
	yml := `
name: t
start_urls: [http://127.0.0.1:1/list]
listing: {match: '^/list$', links: a}
detail:
  match: '^/ad/(\d+)$'
  fields:
    title: {selector: h1, transform: [trim]}
    age: {selector: .alder, transform: [int]}
    city: {selector: .stad, transform: [trim]}
    gender: {selector: .kon, transform: [fold, lower]}
    posted_at: {selector: .publicerad, transform: [swedish_date]}
  attrs:
    price: {selector: .pris, transform: [price]}
    price2: {selector: .pris2, transform: [price]}
    bad: {selector: .alder, transform: [price, int]}
`
	cfg, err := crawler.ParseArena("t.yaml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	page := `<h1> – Anna i Umeå – </h1><span class=alder>Ålder: 26 år</span><span class=stad>Malmo:</span>
<span class=kon>KVINNÅ</span><p class=publicerad>publicerad igår 14:05</p>
<span class=pris>Pris: 1 500 kr/h</span><span class=pris2>1500:-</span>`
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	a, problems, err := cfg.ExtractAd("http://127.0.0.1:1/ad/7", []byte(page), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 0 {
		t.Errorf("problems: %v", problems)
	}
	if got, want := a.Title, "Anna i Umeå"; got != want {
		t.Errorf("title = %q, want %q", got, want)
	}
	if got, want := a.Age, 26; got != want {
		t.Errorf("age = %d, want %d", got, want)
	}
	if got, want := a.Gender, "kvinna"; got != want {
		t.Errorf("gender = %q, want %q", got, want)
	}
	if got, want := a.City, "Malmo"; got != want {
		t.Errorf("city = %q, want %q", got, want)
	}
	if got, want := a.Region, "Skåne län"; got != want {
		t.Errorf("region from city = %q, want %q", got, want)
	}
	if got, want := a.PostedAt, time.Date(2026, 3, 9, 13, 5, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("posted_at = %v, want %v", got, want)
	}
	if got, want := a.Attrs["price"], "1500"; got != want {
		t.Errorf("price = %q, want %q", got, want)
	}
	if got, want := a.Attrs["price2"], "1500"; got != want {
		t.Errorf("price2 = %q, want %q", got, want)
	}
	if got, want := a.Attrs["bad"], "26"; got != want {
		t.Errorf("bad = %q, want %q", got, want)
	}

	// A value a transform cannot read is dropped and reported.
	a, problems, err = cfg.ExtractAd("http://127.0.0.1:1/ad/7", []byte(`<h1>x</h1><span class=alder>okänd</span>`), now)
	if err != nil {
		t.Fatal(err)
	}
	if a.Age != 0 || !strings.Contains(strings.Join(problems, "|"), "age: no number") {
		t.Errorf("age %d, problems %q; want 0 and an age problem", a.Age, problems)
	}
}

func TestPostedAtReadsSwedishDatesWithoutTransform(t *testing.T) {
	cfg, err := crawler.ParseArena("t.yaml", []byte(`
name: t
start_urls: [http://127.0.0.1:1/list]
listing: {match: '^/list$', links: a}
detail:
  match: '^/ad/(\d+)$'
  fields:
    title: {selector: h1}
    posted_at: {selector: time}
    region: {selector: .lan}
    city: {selector: .stad}
`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	a, problems, err := cfg.ExtractAd("http://127.0.0.1:1/ad/1", []byte(`<h1>x</h1><time>3 mars 2026</time><span class=lan>skane</span><span class=stad>Umeå</span>`), now)
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	if got, want := a.PostedAt, time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("posted_at = %v, want %v", got, want)
	}
	// A region on the page wins over the city's, normalised to the län name.
	if got, want := a.Region, "Skåne län"; got != want {
		t.Errorf("region = %q, want %q", got, want)
	}
}
