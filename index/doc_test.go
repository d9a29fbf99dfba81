package index_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/index"
)

func TestDetectLang(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"Hej och välkommen, jag finns här för dig.", "sv"},
		{"Hello, I am here for you and your evenings.", "en"},
		{"Göteborg 2026", "sv"},
		{"", "sv"},
	} {
		if got := index.DetectLang(tc.text); got != tc.want {
			t.Errorf("DetectLang(%q)=%q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestPeriod(t *testing.T) {
	for _, tc := range []struct {
		t           time.Time
		week, month string
	}{
		{time.Date(2026, 2, 24, 12, 0, 0, 0, time.UTC), "2026-W09", "2026-02"},
		// Sunday 23:30 UTC is Monday 00:30 in Stockholm (CET).
		{time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC), "2026-W10", "2026-03"},
		// ISO week-year differs from the calendar year.
		{time.Date(2025, 12, 30, 12, 0, 0, 0, time.UTC), "2026-W01", "2025-12"},
		{time.Time{}, "", ""},
	} {
		week, month := index.Period(tc.t)
		if week != tc.week || month != tc.month {
			t.Errorf("Period(%v)=%q,%q, want %q,%q", tc.t, week, month, tc.week, tc.month)
		}
	}
}

func TestNewDoc(t *testing.T) {
	fetched := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	fp := &ad.Fingerprinted{
		Ad: ad.Ad{
			ID: "a1", Arena: "blomstra", Title: "Hello", Body: "I am here for you.",
			City: " Göteborg ", FetchedAt: fetched, Phones: []string{"070-123 45 67"},
			Contacts: []string{"email:aabbccddeeff00112233"},
		},
		Contacts: []string{"tel:00112233445566778899", "070 123 45 67", "email:aabbccddeeff00112233"},
	}
	d := index.NewDoc(fp)
	if got, want := d.Contacts, []string{"email:aabbccddeeff00112233", "tel:00112233445566778899"}; !slices.Equal(got, want) {
		t.Fatalf("contacts=%v, want %v", got, want)
	}
	if d.Lang != "en" || d.City != "Göteborg" || d.Week != "2026-W10" || d.Month != "2026-03" {
		t.Fatalf("doc=%+v", d)
	}
	if d.Person() != "ad:a1" {
		t.Fatalf("unassigned person=%q, want ad:a1", d.Person())
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "123") {
		t.Fatalf("raw phone in document: %s", b)
	}
}

// Signs of youth are tested with neutral text only (docs/PATTERNS.md).
func TestSignsOfYouth(t *testing.T) {
	for _, tc := range []struct {
		text string
		age  int
		want []string
	}{
		{"Ny i branschen: vi söker en kock till vårt café.", 0, []string{"ny i branschen"}},
		{"Ungefär tio minuter från stationen.", 0, nil}, // "ung" only as a whole word
		{"Trädgårdsarbete, ring efter lunch.", 18, nil},
		{"", 17, []string{"age<18"}},
	} {
		if got := index.SignsOfYouth(tc.text, tc.age); !slices.Equal(got, tc.want) {
			t.Errorf("SignsOfYouth(%q, %d)=%v, want %v", tc.text, tc.age, got, tc.want)
		}
	}
	d := index.NewDoc(&ad.Fingerprinted{Ad: ad.Ad{ID: "a1", Arena: "x", Title: "Ny i branschen", Body: "Vi lagar cyklar."}})
	if !d.PossibleMinor {
		t.Fatalf("doc not flagged: %+v", d)
	}
	if d := index.NewDoc(&ad.Fingerprinted{Ad: ad.Ad{ID: "a2", Arena: "x", Body: "Vi lagar cyklar."}}); d.PossibleMinor {
		t.Fatalf("doc flagged: %+v", d)
	}
}

func TestMatchPhrasesAndCountries(t *testing.T) {
	if got, want := index.MatchPhrases("Boka henne! Hon är i Göteborg.", []string{"hon är", "boka henne", "göteborg stad"}), []string{"hon är", "boka henne"}; !slices.Equal(got, want) {
		t.Fatalf("MatchPhrases=%v, want %v", got, want)
	}
	if got, want := index.NormaliseCountries([]string{"48", " +46", "+46", "x1", ""}), []string{"+46", "+48"}; !slices.Equal(got, want) {
		t.Fatalf("NormaliseCountries=%v, want %v", got, want)
	}
}
