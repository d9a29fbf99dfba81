package dedup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adcensus/ad"
	"adcensus/dedup"
	"adcensus/dedup/cluster"
	"adcensus/internal/synthetic/testimage"
)

func TestOffline(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "in")
	if err := os.MkdirAll(filepath.Join(base, "img"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(base, "img", name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p1, p2 := testimage.Pattern(1, 640, 480), testimage.Pattern(2, 600, 400)
	write("1.jpg", testimage.MustJPEG(t, p1, 90))
	write("1-repost.jpg", testimage.MustJPEG(t, testimage.Resized(p1, 400, 300), 55)) // re-encoded, smaller
	write("2.jpg", testimage.MustJPEG(t, p2, 85))
	write("3.png", testimage.MustPNG(t, testimage.Pattern(3, 300, 300)))
	write("4.jpg", testimage.MustJPEG(t, testimage.Pattern(4, 500, 500), 80))
	write("broken.jpg", []byte("not a jpeg at all"))

	mirror2 := testimage.MustJPEG(t, testimage.Mirrored(p2), 80)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/m2.jpg" {
			w.Write(mirror2)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()

	var in bytes.Buffer
	add := func(a ad.Ad) {
		t.Helper()
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		in.Write(append(b, '\n'))
	}
	add(ad.Ad{ID: "a1", Arena: "t", Name: "Anna", Phones: []string{"070-123 45 67"}, Images: []string{"img/1.jpg"}})
	add(ad.Ad{ID: "a2", Arena: "t", Name: "ANNA ", Body: "Ring O7O-1234567", Images: []string{"img/1-repost.jpg"}})
	add(ad.Ad{ID: "a3", Arena: "t", Name: "Bea", Phones: []string{"+46 70 123 45 67"}, Images: []string{"img/2.jpg"}})
	in.WriteString("{not json\n")
	add(ad.Ad{ID: "a4", Arena: "t", Name: "Cia", Phones: []string{"+48 512 345 678"}, Images: []string{"img/3.png", "img/broken.jpg", "../escape.jpg"}})
	add(ad.Ad{ID: "a5", Arena: "t", Body: "sms 0048512345678"})
	add(ad.Ad{ID: "a1", Arena: "t", Name: "Someone else"}) // duplicate id: first wins
	add(ad.Ad{ID: "a7", Arena: "u", Name: "Dora", Images: []string{srv.URL + "/m2.jpg"}})
	add(ad.Ad{ID: "a8", Arena: "u", Name: "Eva", Images: []string{"img/4.jpg"}})
	// An absurd age and a phones entry that is no number: counted, the
	// advert kept (its text is one word, so it has a signature).
	add(ad.Ad{ID: "a9", Arena: "u", Name: "Fia", Age: 300, Phones: []string{"12"}, Body: "Hej"})
	// Typed differently: one phone as text (read), an age in words
	// (dropped, counted): the advert is kept.
	in.WriteString(`{"id":"a10","arena":"u","name":"Gia","age":"tjugo","phones":"+46 70 999 88 77","body":"Hej"}` + "\n")
	// Nothing to attribute: no contact, no name, no image that could be
	// hashed. Each stays a person of its own; with a9 (its phone is no
	// number) they are the persons without contact or photo.
	add(ad.Ad{ID: "a11", Arena: "u", Body: "Välkommen"})
	add(ad.Ad{ID: "a12", Arena: "u", Body: "Välkommen", Images: []string{"img/broken.jpg"}})
	// No contact and no photo, but a10's text and name: joined to a10,
	// whose phone makes that person one with a contact.
	add(ad.Ad{ID: "a14", Arena: "u", Name: "Gia", Body: "Hej"})

	var out, logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	stateDir := filepath.Join(dir, "state")
	if err := os.Mkdir(stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	// The image server is on loopback: allowed explicitly.
	st, err := dedup.OfflineWith(context.Background(), &in, base, newPseudo(), stateDir, &out, log, dedup.OfflineOptions{AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}

	// persons {a1,a2} {a3,a7} {a4,a5} {a8} {a9} {a10,a14} {a11} {a12};
	// networks {a1,a2,a3,a7} {a4,a5} {a8} {a9} {a10,a14} {a11} {a12}
	row := func(id, p, n string) string {
		return id + "," + cluster.PersonID(p) + "," + cluster.NetworkID(n) + "\n"
	}
	want := "ad_id,person_id,network_id\n" +
		row("a1", "a1", "a1") +
		row("a10", "a10", "a10") +
		row("a11", "a11", "a11") +
		row("a12", "a12", "a12") +
		row("a14", "a10", "a10") +
		row("a2", "a1", "a1") +
		row("a3", "a3", "a1") +
		row("a4", "a4", "a4") +
		row("a5", "a4", "a4") +
		row("a7", "a3", "a1") +
		row("a8", "a8", "a8") +
		row("a9", "a9", "a9")
	if got := out.String(); got != want {
		t.Fatalf("csv:\n%s\nwant:\n%s", got, want)
	}
	// a1, a3, a4, a7 and a8 have neither title nor body: empty texts.
	wantStats := dedup.OfflineStats{Read: 13, BadLines: 1, Duplicates: 1, ImagesFailed: 3, AgesDropped: 1, PhonesInvalid: 1, EmptyTexts: 5,
		FieldsDropped: 1, AdsWritten: 12, Persons: 8, Networks: 7, PersonsWithoutContactOrPhoto: 3}
	if st != wantStats {
		t.Fatalf("stats=%+v, want %+v", st, wantStats)
	}
	if !strings.Contains(logs.String(), "line=4") {
		t.Fatalf("bad line number not logged:\n%s", logs.String())
	}
	for _, raw := range []string{"123 45 67", "1234567", "512 345", "512345678"} {
		if strings.Contains(logs.String(), raw) {
			t.Fatalf("log holds a raw number %q:\n%s", raw, logs.String())
		}
	}
	if left, _ := os.ReadDir(stateDir); len(left) != 0 {
		t.Fatalf("state dir not cleaned: %v", left)
	}
}

// TestOfflineRefusesPrivateImageURLs: an image URL on a loopback address
// is not fetched by default (as the crawler refuses private addresses); it
// counts as a failed image.
func TestOfflineRefusesPrivateImageURLs(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	a := ad.Ad{ID: "a1", Arena: "u", Title: "Promenad", Images: []string{srv.URL + "/p.jpg"}}
	line, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	st, err := dedup.Offline(context.Background(), bytes.NewReader(line), t.TempDir(), newPseudo(), t.TempDir(), &bytes.Buffer{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if hits != 0 || st.ImagesFailed != 1 {
		t.Fatalf("%d requests reached the loopback server, %d images failed; want 0 and 1", hits, st.ImagesFailed)
	}
}

func TestOfflineCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in := strings.NewReader(`{"id":"a1","name":"x"}` + "\n")
	if _, err := dedup.Offline(ctx, in, t.TempDir(), newPseudo(), t.TempDir(), &bytes.Buffer{}, nil); err == nil {
		t.Fatal("want an error on a cancelled context")
	}
}
