package dedup_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	"adcensus/ad"
	"adcensus/dedup"
	"adcensus/internal/contact"
	"adcensus/internal/imagehash"
	"adcensus/internal/synthetic/testimage"
	"adcensus/internal/textsig"
)

// loaderFunc is a function-field fake imagehash.Loader.
type loaderFunc func(ctx context.Context, src string) ([]byte, error)

func (f loaderFunc) Load(ctx context.Context, src string) ([]byte, error) { return f(ctx, src) }

func newPseudo() *contact.Pseudonymiser { return contact.New(bytes.Repeat([]byte{1}, 32)) }

func TestProcess(t *testing.T) {
	jpg := testimage.MustJPEG(t, testimage.Pattern(1, 320, 240), 90)
	loader := loaderFunc(func(_ context.Context, src string) ([]byte, error) {
		if src == "ok.jpg" {
			return jpg, nil
		}
		return nil, errors.New("not found")
	})
	f := dedup.NewFingerprinter(newPseudo(), loader, imagehash.Limits{})
	in := &ad.Ad{
		ID:     "x1",
		Name:   "  Anna-Maria!  ",
		Age:    12,
		Title:  "Ny i Göteborg \xff",
		Body:   "Ring 070-123 45 67",
		Phones: []string{"0701234567"},
		Images: []string{"ok.jpg", "gone.jpg"},
	}
	fp, err := f.Process(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fp.Name, "anna maria"; got != want {
		t.Fatalf("name=%q, want %q", got, want)
	}
	if got := len(fp.Contacts); got != 1 {
		t.Fatalf("contacts=%q, want one", fp.Contacts)
	}
	if strings.Contains(fp.Ad.Body, "070") || fp.Ad.Phones != nil {
		t.Fatalf("raw phone survived: body=%q phones=%q", fp.Ad.Body, fp.Ad.Phones)
	}
	if in.Phones == nil || in.Body != "Ring 070-123 45 67" {
		t.Fatal("Process modified its input")
	}
	if fp.Ad.Age != 0 || fp.Ad.Title != "Ny i Göteborg \uFFFD" {
		t.Fatalf("age=%d title=%q", fp.Ad.Age, fp.Ad.Title)
	}
	if len(fp.Images) != 1 || fp.Images[0].Src != "ok.jpg" || len(fp.Ad.ImageFPs) != 2 || fp.Ad.ImageFPs[1].Err == "" {
		t.Fatalf("images=%+v image_fps=%+v", fp.Images, fp.Ad.ImageFPs)
	}
	if len(fp.Problems) != 2 || !strings.Contains(fp.Problems[0], "age 12") || !strings.Contains(fp.Problems[1], `image "gone.jpg": load: not found`) {
		t.Fatalf("problems=%q", fp.Problems)
	}
	sig, err := textsig.Parse(fp.TextMinHash)
	if err != nil {
		t.Fatalf("text minhash %q: %v", fp.TextMinHash, err)
	}
	if want, _ := textsig.Sign(fp.Ad.Title + "\n" + fp.Ad.Body); sig != want {
		t.Fatal("text minhash is not the signature of the pseudonymised title and body")
	}
}

func TestProcessUsesImageFPs(t *testing.T) {
	loader := loaderFunc(func(context.Context, string) ([]byte, error) {
		t.Fatal("loader called although image_fps were given")
		return nil, nil
	})
	f := dedup.NewFingerprinter(newPseudo(), loader, imagehash.Limits{})
	fp, err := f.Process(context.Background(), &ad.Ad{
		ID:     "x2",
		Body:   "Hej från Göteborg",
		Images: []string{"a.jpg", "b.jpg"},
		ImageFPs: []ad.ImageFP{
			{Src: "a.jpg", Hashes: map[string]string{"phash": "00000000000000ff"}},
			{Src: "b.jpg", Err: "http 404"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(fp.Images) != 1 || len(fp.Problems) != 1 || ad.ProblemKind(fp.Problems[0]) != ad.ProblemImage {
		t.Fatalf("images=%v problems=%q", fp.Images, fp.Problems)
	}
}

// An advert without words still flows on, with the reason it has no text
// signature; each problem names its kind.
func TestProcessCountsProblemKinds(t *testing.T) {
	f := dedup.NewFingerprinter(newPseudo(), loaderFunc(func(context.Context, string) ([]byte, error) {
		return nil, errors.New("not found")
	}), imagehash.Limits{})
	fp, err := f.Process(context.Background(), &ad.Ad{
		ID: "x3", Title: " … ", Body: "!!! \u00a0", Age: -4, Phones: []string{"070-12"}, Images: []string{"gone.jpg"},
	})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, p := range fp.Problems {
		kinds[ad.ProblemKind(p)]++
	}
	want := map[string]int{ad.ProblemAge: 1, ad.ProblemImage: 1, ad.ProblemPhone: 1, ad.ProblemText: 1}
	if !maps.Equal(kinds, want) || fp.TextMinHash != "" || fp.Ad.ID != "x3" {
		t.Fatalf("problems=%q (kinds %v, want %v), minhash %q", fp.Problems, kinds, want, fp.TextMinHash)
	}
}

func TestProcessErrors(t *testing.T) {
	f := dedup.NewFingerprinter(newPseudo(), nil, imagehash.Limits{})
	if _, err := f.Process(context.Background(), nil); err == nil {
		t.Fatal("nil advert: want an error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Process(ctx, &ad.Ad{ID: "x"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err=%v, want context.Canceled", err)
	}
}

// TestNormaliseNameEmoji: what only shapes an emoji (variation selector,
// zero-width joiner, keycap mark) goes with it, so decorated names are
// the plain name; letters with combining marks stay.
func TestNormaliseNameEmoji(t *testing.T) {
	for in, want := range map[string]string{
		"❤️ Victoria ❤️":    "victoria",
		"Victoria ❤️":       "victoria",
		"✨Grace✨":           "grace",
		"Grace A. ❤️":       "grace a",
		"👩\u200d🦰 Lisa":     "lisa",
		"Ola 1\ufe0f\u20e3": "ola 1",
		"ANNA":              "anna",
		"Zo\u0065\u0301":    "zoé",
		"Anna\u200bMaria":   "anna maria",
		"Q\u0323ira":        "q\u0323ira",
		"*Anna*":            "anna",
		"~ Anna K. ~":       "anna k",
	} {
		if got := dedup.NormaliseName(in); got != want {
			t.Errorf("NormaliseName(%q) = %q, want %q", in, got, want)
		}
	}
}
