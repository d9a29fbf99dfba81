package contact_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"adcensus/ad"
	"adcensus/internal/contact"
)

var testKey = bytes.Repeat([]byte{7}, contact.KeySize)

func MustPhone(tb testing.TB, p *contact.Pseudonymiser, raw string) string {
	tb.Helper()
	ps, ok := p.Phone(raw)
	if !ok {
		tb.Fatalf("Phone(%q) not ok", raw)
	}
	return ps
}

func TestPhoneObfuscatedForms(t *testing.T) {
	p := contact.New(testKey)
	se := MustPhone(t, p, "0701234567")
	pl := MustPhone(t, p, "+48512345678")
	tests := []struct {
		raw  string
		want string
	}{
		{"070-123 45 67", se},
		{"+46 70 123 45 67", se},
		{"0046701234567", se},
		{"+46 (0)70-123.45.67", se},
		{"O7O-1234567", se},
		{"o7o 123 45 67", se},
		{"O7O-1two3 45 67", se},
		{"noll sju noll ett två tre fyra fem sex sju", se},
		{"zero seven zero one two three four five six seven", se},
		{"Noll Sju Noll 123 45 67", se},
		{"０７０－１２３ ４５ ６７", se},
		{"0️⃣7️⃣0️⃣1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣7️⃣", se},
		{"0⃣7⃣0⃣1⃣2⃣3⃣4⃣5⃣6⃣7⃣", se},
		{"+48 512 345 678", pl},
		{"0048-512-345-678", pl},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			if got := MustPhone(t, p, tt.raw); got != tt.want {
				t.Fatalf("Phone(%q)=%s, want %s", tt.raw, got, tt.want)
			}
		})
	}
	if !strings.HasPrefix(se, "tel:") || len(se) != len("tel:")+32 {
		t.Fatalf("pseudonym %q: want tel: and 32 hex digits", se)
	}
}

func TestPhoneRejects(t *testing.T) {
	p := contact.New(testKey)
	for _, raw := range []string{"", "12", "hello", "070-12", "+46 00 000 00 00", strings.Repeat("0701234567", 30)} {
		if ps, ok := p.Phone(raw); ok {
			t.Errorf("Phone(%.20q)=%s, want not ok", raw, ps)
		}
	}
}

func TestPhoneDistinct(t *testing.T) {
	p := contact.New(testKey)
	a, b := MustPhone(t, p, "0701234567"), MustPhone(t, p, "0701234568")
	if a == b {
		t.Fatal("different numbers share a pseudonym")
	}
	other := bytes.Repeat([]byte{8}, contact.KeySize)
	if c := MustPhone(t, contact.New(other), "0701234567"); c == a {
		t.Fatal("different keys give the same pseudonym")
	}
}

func TestApply(t *testing.T) {
	p := contact.New(testKey)
	se := MustPhone(t, p, "0701234567")
	pl := MustPhone(t, p, "+48512345678")
	other := MustPhone(t, p, "0739876543")
	mail := p.Email("Anna.B@Example.com")
	a := &ad.Ad{
		ID:       "x",
		Phones:   []string{"O7O-1234567", "12", "+46 70 123 45 67 / 0739 876 543"},
		Title:    "Anna i Göteborg, ring noll sju noll ett två tre fyra fem sex sju",
		Body:     "Hej! Sms +48 512 345 678 eller mejla anna.b@example.com. Boka 2 timmar.",
		Contacts: []string{"tel:existing"},
	}
	problems := p.Apply(a)
	if got, want := problems, []string{`phones[1] "12": not a valid phone number`}; !reflect.DeepEqual(got, want) {
		t.Fatalf("problems=%q, want %q", got, want)
	}
	want := []string{mail, pl, se, other, "tel:existing"}
	slices.Sort(want)
	if !reflect.DeepEqual(a.Contacts, want) {
		t.Fatalf("contacts=%q, want %q", a.Contacts, want)
	}
	if a.Phones != nil {
		t.Fatalf("phones=%q, want nil", a.Phones)
	}
	if got, want := a.Title, "Anna i Göteborg, ring [tel]"; got != want {
		t.Fatalf("title=%q, want %q", got, want)
	}
	if got, want := a.Body, "Hej! Sms [tel] eller mejla [email]. Boka 2 timmar."; got != want {
		t.Fatalf("body=%q, want %q", got, want)
	}
	before := *a
	before.Contacts = append([]string(nil), a.Contacts...)
	if problems := p.Apply(a); len(problems) != 0 {
		t.Fatalf("second Apply problems=%q", problems)
	}
	if !reflect.DeepEqual(*a, before) {
		t.Fatalf("second Apply changed the advert: %+v, want %+v", *a, before)
	}
}

func TestApplyNeverEchoesLongNumbers(t *testing.T) {
	p := contact.New(testKey)
	a := &ad.Ad{Phones: []string{"0701234", "99999999999999999999"}}
	for _, pr := range p.Apply(a) {
		if strings.Contains(pr, "0701234") || strings.Contains(pr, "9999999") {
			t.Fatalf("problem %q echoes a raw number", pr)
		}
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	k1, err := contact.LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(k1), contact.KeySize; got != want {
		t.Fatalf("len=%d, want %d", got, want)
	}
	path := filepath.Join(dir, contact.KeyFile)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Fatalf("key mode=%v, want %v", got, want)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode=%v (%v), want 0700", st.Mode().Perm(), err)
	}
	k2, err := contact.LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1, k2) {
		t.Fatal("second load returned a different key")
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := contact.LoadOrCreateKey(dir); !errors.Is(err, contact.ErrKeyPermissions) {
		t.Fatalf("err=%v, want ErrKeyPermissions", err)
	}
}

// Numbers that only have a possible length (ranges the metadata calls
// invalid, such as Ofcom's drama range) still identify a contact when given
// as a phone or written with an international prefix, and never stay raw in
// the text; a bare digit run in text must be a valid number.
func TestPossibleButNotValidNumbers(t *testing.T) {
	p := contact.New(testKey)
	field := MustPhone(t, p, "+44 7700 900123")
	if alt := MustPhone(t, p, "0044 7700-900-123"); alt != field {
		t.Fatalf("two spellings of one possible number differ: %s %s", field, alt)
	}
	a := &ad.Ad{ID: "x", Body: "Call +44 7700 900123 today. Ref 7700900123. Price 1500."}
	p.Apply(a)
	if len(a.Contacts) != 1 || a.Contacts[0] != field {
		t.Fatalf("contacts = %v, want [%s]", a.Contacts, field)
	}
	if strings.Contains(a.Body, "900123 today") || !strings.Contains(a.Body, "[tel] today") {
		t.Fatalf("international number not redacted: %q", a.Body)
	}
	if !strings.Contains(a.Body, "Price 1500") {
		t.Fatalf("price taken for a phone: %q", a.Body)
	}
}

// Apply records the calling code of every phone number it pseudonymises,
// for the foreign-contact indicator; never the number.
func TestApplyRecordsCountries(t *testing.T) {
	p := contact.New(testKey)
	a := &ad.Ad{ID: "x", Phones: []string{"070-123 45 67"}, Body: "Or +48 512 345 678."}
	p.Apply(a)
	if got, want := strings.Join(a.ContactCountries, ","), "+46,+48"; got != want {
		t.Fatalf("ContactCountries = %q, want %q", got, want)
	}
}
