package ad_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"adcensus/ad"
)

func TestRoundTrip(t *testing.T) {
	in := &ad.Ad{
		ID: "x-1", Arena: "x", URL: "http://127.0.0.1/ad/1", FetchedAt: time.Date(2026, 3, 3, 14, 5, 0, 0, time.UTC),
		Title: "Hej & välkommen <3", Body: "Göteborg", Name: "Anna", Age: 28, City: "Göteborg",
		Contacts: []string{"tel:00ff"}, Images: []string{"a.jpg"},
		ImageFPs: []ad.ImageFP{{Src: "a.jpg", Hashes: map[string]string{"phash": "0011223344556677"}}},
		Attrs:    map[string]string{"price": "1000 kr"},
	}
	var buf bytes.Buffer
	w := ad.NewWriter(&buf)
	if err := w.Write(in); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if !strings.Contains(buf.String(), `"v":1`) || !strings.Contains(buf.String(), "<3") {
		t.Fatalf("record not versioned or HTML-escaped: %s", buf.String())
	}
	if strings.Contains(buf.String(), "posted_at") {
		t.Fatalf("zero posted_at written: %s", buf.String())
	}
	got, err := ad.NewReader(&buf).Next()
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != in.Title || got.Age != 28 || !got.FetchedAt.Equal(in.FetchedAt) || got.ImageFPs[0].Hashes["phash"] != "0011223344556677" || got.V != ad.SchemaVersion {
		t.Fatalf("round trip changed the record: %+v", got)
	}
}

// TestReaderSkipsBadLines: every bad line is reported with its number and
// the good lines around it are still read.
func TestReaderSkipsBadLines(t *testing.T) {
	input := strings.Join([]string{
		`{"id":"a"}`,
		`not json`,
		"{\"id\":\"b\xff\"}",
		`{"title":"no id"}`,
		``,
		`{"id":"c","v":99}`,
		`{"id":"d","age":"old"}`,
		strings.Repeat("x", ad.MaxLineBytes+10),
		`{"id":"e"}`,
	}, "\n")
	r := ad.NewReader(strings.NewReader(input))
	var ids []string
	var badLines []int
	for {
		a, err := r.Next()
		if err == io.EOF {
			break
		}
		var le *ad.LineError
		if errors.As(err, &le) {
			badLines = append(badLines, le.Line)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	// d's age is no number: the field is dropped, the advert kept.
	if got, want := strings.Join(ids, ","), "a,d,e"; got != want {
		t.Errorf("read ids %q, want %q", got, want)
	}
	want := []int{2, 3, 4, 6, 8}
	if len(badLines) != len(want) {
		t.Fatalf("bad lines %v, want %v", badLines, want)
	}
	for i := range want {
		if badLines[i] != want[i] {
			t.Fatalf("bad lines %v, want %v", badLines, want)
		}
	}
}

func TestContentIDStable(t *testing.T) {
	if ad.ContentID("blomstra", "1042") != ad.ContentID("blomstra", "1042") {
		t.Fatal("ContentID not deterministic")
	}
	if ad.ContentID("blomstra", "1042") == ad.ContentID("nattlinjen", "1042") {
		t.Fatal("same key on two arenas gave one id")
	}
	if id := ad.ContentID("blomstra", "1042"); !strings.HasPrefix(id, "blomstra-") {
		t.Fatalf("id %q does not name its arena", id)
	}
}

func TestValidID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"blomstra-3f9c2a1b7d4e5f60", true},
		{"x 1 ö", true},
		{"", false},
		{"a\x00b", false},
		{"a\nb", false},
		{"\xff", false},
		{strings.Repeat("a", ad.MaxIDLen+1), false},
	} {
		if got := ad.ValidID(tc.id); got != tc.want {
			t.Errorf("ValidID(%.20q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

// CheckID says why an id is refused, and refuses exactly what ValidID
// does.
func TestCheckID(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{"ok-1", ""},
		{"", "advert id invalid: empty"},
		{strings.Repeat("a", 1025), "advert id invalid: too long (1025 bytes, at most 1024)"},
		{"a\xffb", "advert id invalid: not valid UTF-8"},
		{"a-\x00", "advert id invalid: control character U+0000 at byte 2"},
		{"a\tb", "advert id invalid: control character U+0009 at byte 1"},
	} {
		err := ad.CheckID(tc.id)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("CheckID(%.20q) = %q, want %q", tc.id, got, tc.want)
		}
		if valid := ad.ValidID(tc.id); valid != (err == nil) {
			t.Errorf("ValidID(%.20q) = %v, but CheckID says %v", tc.id, valid, err)
		}
	}
}
