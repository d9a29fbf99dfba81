// Package contact pseudonymises contact details (phone numbers, e-mail
// addresses, messaging handles) at the first stage of adcensus: raw values
// are de-obfuscated, normalised (phones to E.164, e-mails and handles to
// lower case) and replaced by a keyed HMAC-SHA256, so that raw contacts
// never reach storage, logs or exports.
//
// A pseudonym is "tel:<hex>", "email:<hex>" or "handle:<service>:<hex>",
// the first 16 bytes of HMAC-SHA256(key, normalised value) (for a handle,
// of "<service>:<handle>"). The same key always yields the same pseudonym;
// different keys yield unrelated ones.
package contact

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"adcensus/ad"

	"github.com/nyaruka/phonenumbers/v2"
	"golang.org/x/text/unicode/norm"
)

const (
	// KeyFile is the name of the secret key file in the data directory.
	KeyFile = "secret.key"
	// KeySize is the length of the HMAC key in bytes.
	KeySize = 32
	// MaxPhoneLen is the longest raw phone string Phone accepts (the limit
	// of phonenumbers.Parse).
	MaxPhoneLen = 250
	// Region is the default region for numbers written without a country code.
	Region = "SE"

	// TelPrefix and EmailPrefix start the pseudonyms of phones and e-mails.
	TelPrefix   = "tel:"
	EmailPrefix = "email:"
	// TelPlaceholder and EmailPlaceholder replace found contacts in text.
	TelPlaceholder   = "[tel]"
	EmailPlaceholder = "[email]"

	pseudoBytes = 16
)

// ErrKeyPermissions is returned by LoadOrCreateKey for a key file that
// group or others may read or write.
var ErrKeyPermissions = errors.New("secret key file is accessible by group or others")

// LoadOrCreateKey returns the HMAC key stored in <dataDir>/secret.key,
// creating the directory (0700) and a new random key file (0600) when there
// is none. An existing key file that is group- or world-accessible is refused
// with ErrKeyPermissions, as is a file of the wrong length.
func LoadOrCreateKey(dataDir string) ([]byte, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(dataDir, KeyFile)
	key, err := readKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readKey(path) // another process created it first
	}
	if err != nil {
		return nil, fmt.Errorf("create key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("write key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("sync key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("close key: %w", err)
	}
	return key, nil
}

func readKey(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("secret key %s: not a regular file", path)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o; run chmod 600 on it", ErrKeyPermissions, path, st.Mode().Perm())
	}
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret key %s: %d bytes, want %d", path, len(key), KeySize)
	}
	return key, nil
}

// Pseudonymiser turns contacts into keyed pseudonyms. It is safe for
// concurrent use.
type Pseudonymiser struct {
	key []byte
}

// New returns a Pseudonymiser with the given HMAC key (copied).
func New(key []byte) *Pseudonymiser {
	return &Pseudonymiser{key: bytes.Clone(key)}
}

func (p *Pseudonymiser) sum(prefix, value string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(value))
	return prefix + hex.EncodeToString(m.Sum(nil)[:pseudoBytes])
}

// Phone returns the pseudonym of one phone number written as raw (possibly
// obfuscated), or ok=false when raw is not one valid phone number (too long,
// unparsable, or not a valid number for its region).
func (p *Pseudonymiser) Phone(raw string) (pseudo string, ok bool) {
	e164, _, ok := normalisePhone(raw)
	if !ok {
		return "", false
	}
	return p.sum(TelPrefix, e164), true
}

// Email returns the pseudonym of an e-mail address (compared in lower
// case, NFC).
func (p *Pseudonymiser) Email(addr string) string {
	return p.sum(EmailPrefix, norm.NFC.String(strings.ToLower(strings.TrimSpace(addr))))
}

// NormalisePhone de-obfuscates raw and returns the number in E.164 form, or
// ok=false when raw is not one valid phone number. The result is a raw
// number: never log or store it.
func NormalisePhone(raw string) (e164 string, ok bool) {
	e164, _, ok = normalisePhone(raw)
	return e164, ok
}

// normalisePhone is NormalisePhone, also returning the country calling
// code.
func normalisePhone(raw string) (e164 string, countryCode int32, ok bool) {
	return normalisePhoneIn(raw, nil)
}

// normalisePhoneIn is normalisePhone, parsing through found's memo (nil:
// no memo).
func normalisePhoneIn(raw string, found *collected) (e164 string, countryCode int32, ok bool) {
	if len(raw) > MaxPhoneLen || !utf8.ValidString(raw) {
		return "", 0, false
	}
	clean := deobfuscate(raw, true).text
	var b strings.Builder
	for _, r := range clean {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && b.Len() == 0:
			b.WriteRune(r)
		}
	}
	s := b.String()
	if len(s) < 3 || len(s) > MaxPhoneLen {
		return "", 0, false
	}
	pp := found.parse(s)
	if pp.num == nil || !acceptableParsed(pp, s, true) {
		return "", 0, false
	}
	return pp.e164(), pp.num.GetCountryCode(), true
}

// acceptableParsed says whether a parsed number counts as a contact. Its
// validity is looked up once, through the memo of pp.
//
// In free text (field false) a number must be written as phone numbers are
// written: with an international prefix ("+46…", "0046…"), a national
// trunk prefix ("070…", "08-…"), or its country code ("46701234567").
// Digit runs that start otherwise — dates ("2026-01-05"), order numbers,
// times ("12.30-13.30"), lists of sizes — are not phones even when the
// metadata would call them valid Swedish numbers.
//
// Then a number that libphonenumber's metadata calls valid counts. A number
// that only has a possible length for its country (new ranges, numbers the
// metadata does not know, ranges reserved for fiction) counts when it was
// given as a phone (a phones field) or written with an international prefix
// in free text: such a number still identifies a contact, and must not stay
// in the text unpseudonymised.
func acceptableParsed(pp *parsedPhone, written string, field bool) bool {
	num := pp.num
	w := strings.TrimSpace(written)
	international := strings.HasPrefix(w, "+") || strings.HasPrefix(w, "00")
	if !field && !international {
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, w)
		if !strings.HasPrefix(digits, "0") && !strings.HasPrefix(digits, strconv.Itoa(int(num.GetCountryCode()))) {
			return false
		}
	}
	if pp.isValid() {
		return true
	}
	if phonenumbers.IsPossibleNumberWithReason(num) != phonenumbers.IS_POSSIBLE {
		return false
	}
	// A national number never starts with 0 after the country code (the
	// Italian leading zero is kept apart by the parser), and a run of one
	// repeated digit is a placeholder, not a contact.
	nsn := phonenumbers.GetNationalSignificantNumber(num)
	if nsn == "" || nsn[0] == '0' || strings.Count(nsn, nsn[:1]) == len(nsn) {
		return false
	}
	return field || international
}

// Apply pseudonymises the contacts of a in place: phone numbers in a.Phones
// (each entry one number as shown), and phone numbers, e-mail addresses
// (plain and obfuscated, see email.go) and messaging handles (handle.go)
// in a.Title and a.Body. It sets a.Contacts to the sorted, unique union of
// the pseudonyms found and those already there, clears a.Phones, and
// replaces every contact found in the text by "[tel]", "[email]" or
// "[handle]".
//
// It returns the problems met (for example a phones entry that is not a
// valid number); problems never contain a raw phone number. Apply is
// idempotent.
func (p *Pseudonymiser) Apply(a *ad.Ad) []string {
	var problems []string
	found := &collected{contacts: slices.Clone(a.Contacts), countries: slices.Clone(a.ContactCountries)}
	for i, raw := range a.Phones {
		if e164, cc, ok := normalisePhoneIn(raw, found); ok {
			found.phone(p, e164, cc)
			continue
		}
		// An entry may hold several numbers ("070-… / 08-…").
		var n int
		if len(raw) <= 4*MaxPhoneLen {
			_, n = p.findPhones(raw, found)
		}
		if n == 0 {
			problems = append(problems, fmt.Sprintf("phones[%d] %s: not a valid phone number", i, describe(raw)))
		}
	}
	a.Phones = nil
	a.Title = p.scrub(a.Title, found)
	a.Body = p.scrub(a.Body, found)
	a.Contacts = sortedUnique(found.contacts)
	a.ContactCountries = sortedUnique(found.countries)
	return problems
}

// collected gathers what Apply finds: pseudonyms, and the country calling
// codes ("+46") of the phone numbers, which identify no one and feed the
// foreign-contact indicator.
type collected struct {
	contacts, countries []string
	// parsed memoises libphonenumber's work per number (its digits, with
	// a leading "+" when written so): an advert usually shows the same
	// number in its phones field and in its text, and parsing is the
	// dearest part of Apply.
	parsed map[string]*parsedPhone
}

// parsedPhone is what libphonenumber made of one number's digits, with
// the checks on it done at most once.
type parsedPhone struct {
	num                    *phonenumbers.PhoneNumber // nil: did not parse
	validDone, valid       bool
	possibleDone, possible bool
	formatted              string
}

// parse parses digits (only digits, after an optional "+") for Region,
// once per Apply; c may be nil (no memo). The number parsed is the one
// phonenumbers.Parse returns (no raw input kept); the caller must not
// change it.
func (c *collected) parse(digits string) *parsedPhone {
	if c != nil {
		if pp, ok := c.parsed[digits]; ok {
			return pp
		}
	}
	pp := &parsedPhone{}
	if num, err := phonenumbers.Parse(digits, Region); err == nil {
		pp.num = num
	}
	if c != nil {
		if c.parsed == nil {
			c.parsed = map[string]*parsedPhone{}
		}
		c.parsed[digits] = pp
	}
	return pp
}

func (pp *parsedPhone) isValid() bool {
	if !pp.validDone {
		pp.valid, pp.validDone = phonenumbers.IsValidNumber(pp.num), true
	}
	return pp.valid
}

func (pp *parsedPhone) isPossible() bool {
	if !pp.possibleDone {
		pp.possible, pp.possibleDone = phonenumbers.IsPossibleNumber(pp.num), true
	}
	return pp.possible
}

// e164 is the number in E.164 form.
func (pp *parsedPhone) e164() string {
	if pp.formatted == "" {
		pp.formatted = phonenumbers.Format(pp.num, phonenumbers.E164)
	}
	return pp.formatted
}

// phone adds the pseudonym of a number and its country calling code.
func (c *collected) phone(p *Pseudonymiser, e164 string, countryCode int32) {
	c.contacts = append(c.contacts, p.sum(TelPrefix, e164))
	c.countries = append(c.countries, "+"+strconv.Itoa(int(countryCode)))
}

func sortedUnique(xs []string) []string {
	slices.Sort(xs)
	xs = slices.Compact(xs)
	if len(xs) == 0 {
		return nil
	}
	return xs
}

// describe shows a rejected raw value only when it is too short to be a
// phone number; otherwise only its length.
func describe(raw string) string {
	digits := 0
	for _, r := range raw {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	if digits <= 4 && utf8.RuneCountInString(raw) <= 12 {
		return fmt.Sprintf("%q", raw)
	}
	return fmt.Sprintf("(%d characters, %d digits)", utf8.RuneCountInString(raw), digits)
}

// scrub replaces e-mail addresses, messaging handles and phone numbers in
// text by placeholders and appends their pseudonyms to found.
func (p *Pseudonymiser) scrub(text string, found *collected) string {
	if text == "" {
		return text
	}
	var spans []span
	for _, e := range findEmails(text) {
		found.contacts = append(found.contacts, p.Email(e.addr))
		spans = append(spans, span{e.start, e.end})
	}
	text = replaceSpans(text, spans, EmailPlaceholder)
	spans = spans[:0]
	var phones []bool
	for _, h := range findHandles(text) {
		if h.phone {
			e164, cc, ok := normalisePhoneIn(h.value, found)
			if !ok {
				continue
			}
			found.phone(p, e164, cc)
			spans = append(spans, span{h.start, h.end})
			phones = append(phones, true)
			continue
		}
		phones = append(phones, false)
		for _, svc := range h.services {
			found.contacts = append(found.contacts, p.handle(svc, h.value))
		}
		spans = append(spans, span{h.start, h.end})
	}
	text = replaceSpansWith(text, spans, func(i int) string {
		if phones[i] {
			return TelPlaceholder
		}
		return HandlePlaceholder
	})
	out, _ := p.findPhones(text, found)
	return out
}

// replaceSpans replaces the ordered spans of text by placeholder.
func replaceSpans(text string, spans []span, placeholder string) string {
	return replaceSpansWith(text, spans, func(int) string { return placeholder })
}

// replaceSpansWith replaces the ordered spans of text, span i by
// placeholder(i); a span overlapping the one before is skipped.
func replaceSpansWith(text string, spans []span, placeholder func(int) string) string {
	if len(spans) == 0 {
		return text
	}
	var b strings.Builder
	last := 0
	for i, sp := range spans {
		if sp.start < last {
			continue
		}
		b.WriteString(text[last:sp.start])
		b.WriteString(placeholder(i))
		last = sp.end
	}
	b.WriteString(text[last:])
	return b.String()
}

// findPhones finds phone numbers in (obfuscated) text, appends their
// pseudonyms to found and returns text with each number replaced by
// TelPlaceholder, and the number of numbers found.
func (p *Pseudonymiser) findPhones(text string, found *collected) (string, int) {
	d := deobfuscate(text, false)
	var spans []span
	match := func(pp *parsedPhone, raw string, start, end int) {
		if !acceptableParsed(pp, raw, false) {
			return
		}
		found.phone(p, pp.e164(), pp.num.GetCountryCode())
		s, e := d.origSpan(start, end)
		if n := len(spans); n > 0 && s < spans[n-1].end {
			spans[n-1].end = max(spans[n-1].end, e)
			return
		}
		spans = append(spans, span{s, e})
	}
	for ws, we := range phoneWindows(d.text) {
		w := d.text[ws:we]
		if pp, ok := simplePhoneWindow(w, found); ok {
			match(pp, w, ws, we)
			continue
		}
		for m := range phonenumbers.FindNumbersWithLeniency(w, Region, phonenumbers.POSSIBLE, math.MaxInt) {
			match(&parsedPhone{num: m.Number()}, m.RawString(), ws+m.Start(), ws+m.End())
		}
	}
	return replaceSpans(text, spans, TelPlaceholder), len(spans)
}
