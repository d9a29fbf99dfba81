package index

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // weeks and months are Swedish calendar periods on any host
	"unicode"

	"adcensus/ad"
)

// Languages of an advert's text, chosen per advert by DetectLang.
const (
	LangSwedish = "sv"
	LangEnglish = "en"
)

// Doc is the document indexed for one advert and kept beside the index so it
// can be re-indexed when the advert's assignment changes. It never holds raw
// contacts: Contacts are keyed-HMAC pseudonyms only.
type Doc struct {
	ID    string `json:"id"`
	Arena string `json:"arena"`
	URL   string `json:"url,omitempty"`
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
	// Name is the advertised name, normalised (ad.Fingerprinted.Name):
	// reviews naming a person are weak evidence against it (index/reviews).
	Name     string   `json:"name,omitempty"`
	Age      int      `json:"age,omitempty"`
	City     string   `json:"city,omitempty"`
	Region   string   `json:"region,omitempty"`
	Gender   string   `json:"gender,omitempty"`
	Contacts []string `json:"contacts,omitempty"`
	// ContactCountries are the country calling codes ("+46", "+48") of the
	// advert's phone contacts, sorted, unique: all a pattern may know of a
	// number, which is otherwise only a pseudonym. Filled from
	// ad.Fingerprinted when the fingerprint stage provides them (see
	// contactCountries); empty otherwise.
	ContactCountries []string `json:"contact_countries,omitempty"`
	// PossibleMinor flags an advert with a sign of youth (see SignsOfYouth):
	// an indicator for review and for reporting children separately, never
	// a finding about a person's age.
	PossibleMinor bool      `json:"possible_minor,omitempty"`
	Lang          string    `json:"lang"`
	PostedAt      time.Time `json:"posted_at,omitzero"`
	FetchedAt     time.Time `json:"fetched_at,omitzero"`
	Week          string    `json:"week,omitempty"`
	Month         string    `json:"month,omitempty"`
	PersonID      string    `json:"person_id,omitempty"`
	NetworkID     string    `json:"network_id,omitempty"`
	// AssignVersion is the version of the assignment applied (see
	// ad.Assignment.Version); an older one arriving later is ignored.
	AssignVersion uint64 `json:"assign_version,omitempty"`
	// Version is the advert's content version (ad.Ad.Version): empty for
	// its first content. Only assignments of ClusterID apply.
	Version string `json:"version,omitempty"`
}

// ClusterID is the id under which the cluster stage placed the advert's
// current content (ad.VersionedID): assignments of other ids are of an
// older content and do not apply.
func (d *Doc) ClusterID() string { return ad.VersionedID(d.ID, d.Version) }

// pseudonym is the shape of a keyed-HMAC contact pseudonym ("tel:<hex>",
// "handle:<service>:<hex>").
var pseudonym = regexp.MustCompile(`^[a-z]+:(?:[a-z]+:)?[0-9a-f]{16,}$`)

// NewDoc builds the document of a fingerprinted advert, without assignment.
// Raw phones are never copied; contacts that do not look like pseudonyms
// ("kind:hex") are dropped, so a raw number can never reach the index.
func NewDoc(fp *ad.Fingerprinted) *Doc {
	a := &fp.Ad
	d := &Doc{
		ID:        a.ID,
		Arena:     a.Arena,
		URL:       a.URL,
		Title:     a.Title,
		Body:      a.Body,
		Name:      cmp.Or(fp.Name, strings.ToLower(strings.TrimSpace(a.Name))),
		Age:       a.Age,
		City:      strings.TrimSpace(a.City),
		Region:    strings.TrimSpace(a.Region),
		Gender:    strings.TrimSpace(a.Gender),
		Lang:      DetectLang(a.Title + "\n" + a.Body),
		PostedAt:  a.PostedAt.UTC(),
		FetchedAt: a.FetchedAt.UTC(),
		Version:   a.Version,
	}
	d.Week, d.Month = Period(a.Time())
	for _, c := range slices.Concat(fp.Contacts, a.Contacts) {
		if pseudonym.MatchString(c) {
			d.Contacts = append(d.Contacts, c)
		}
	}
	slices.Sort(d.Contacts)
	d.Contacts = slices.Compact(d.Contacts)
	d.ContactCountries = contactCountries(fp)
	d.PossibleMinor = len(SignsOfYouth(a.Title+"\n"+a.Body, a.Age)) > 0
	return d
}

// contactCountries returns the country calling codes of the advert's
// phone contacts, as the fingerprint stage found them.
func contactCountries(fp *ad.Fingerprinted) []string {
	if len(fp.ContactCountries) > 0 {
		return fp.ContactCountries
	}
	return fp.Ad.ContactCountries
}

// NormaliseCountries returns calling codes in the form "+46": trimmed,
// with a leading "+", digits only (others dropped), sorted, unique.
func NormaliseCountries(codes []string) []string {
	var out []string
	for _, c := range codes {
		c = strings.TrimPrefix(strings.TrimSpace(c), "+")
		if c == "" || len(c) > 3 || strings.IndexFunc(c, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
			continue
		}
		out = append(out, "+"+c)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// youthPhrases are the signs-of-youth phrases: the one list of them
// (docs/PATTERNS.md and configs/patterns/signs-of-youth.yaml refer to it
// as index.YouthPhrases).
var youthPhrases = []string{
	"ny i branschen", "ung", "ungdom", "tjej", "skoltjej", "skolflicka", "nyss fyllda", "precis fyllt 18",
	"new to this", "young", "teen", "girl", "schoolgirl", "barely legal", "just turned 18",
}

// YouthPhrases returns the phrases SignsOfYouth looks for.
func YouthPhrases() []string { return slices.Clone(youthPhrases) }

// YouthIndicatorVersion changes whenever SignsOfYouth changes; documents
// indexed under another version keep their old flag until the index is
// rebuilt from the stream (adcensus rebuild).
const YouthIndicatorVersion = 1

// SignsOfYouth returns the signs of youth in an advert: the YouthPhrases
// its text contains as whole words, and "age<18" when an advertised age is
// under 18. It is an indicator for review, never proof of anyone's age.
func SignsOfYouth(text string, age int) []string {
	out := MatchPhrases(text, youthPhrases)
	if age > 0 && age < 18 {
		out = append(out, "age<18")
	}
	return out
}

// MatchPhrases returns the phrases that occur in text as whole words (case
// and punctuation ignored, Unicode letters kept: "Göteborg" is one word), in
// the order of phrases.
func MatchPhrases(text string, phrases []string) []string {
	words := Words(text)
	var out []string
	for _, p := range phrases {
		pw := Words(p)
		if len(pw) == 0 {
			continue
		}
		for i := 0; i+len(pw) <= len(words); i++ {
			if slices.Equal(words[i:i+len(pw)], pw) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// Words splits text into lower-case words of letters and digits.
func Words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// Person returns the key the advert is counted under: its person id, or,
// while the cluster stage has not assigned it yet, "ad:" and its own id
// (an unassigned advert counts as its own person).
func (d *Doc) Person() string {
	if d.PersonID != "" {
		return d.PersonID
	}
	return "ad:" + d.ID
}

var stockholm = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil { // cannot happen with time/tzdata embedded
		return time.UTC
	}
	return loc
})

// Period returns the ISO week ("2026-W09") and month ("2026-03") of t in
// Swedish time (Europe/Stockholm), or empty strings for the zero time.
func Period(t time.Time) (week, month string) {
	if t.IsZero() {
		return "", ""
	}
	t = t.In(stockholm())
	y, w := t.ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w), t.Format("2006-01")
}

// Common function words; whichever language has more of them in a text wins.
var (
	stopSv = wordSet("och att det som en är på för med jag har till av inte om du mig mej dig kan ett vi den var så hos eller bara också här min din vill dej ni mycket från hej kontakta ring")
	stopEn = wordSet("the and to of is in for with you me my your am are be this that it on at not can will here or only also from hello call contact very we our if")
)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// DetectLang guesses whether text is Swedish or English by counting common
// function words: English only when it has more English than Swedish ones.
// It is deliberately crude; mixed or unknown text is treated as Swedish.
func DetectLang(text string) string {
	var sv, en int
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if stopSv[w] {
			sv++
		}
		if stopEn[w] {
			en++
		}
	}
	if en > sv {
		return LangEnglish
	}
	return LangSwedish
}

// PurgeOptions say which data classes of indexed adverts to purge
// (docs/PRIVACY.md): those of adverts observed before each cutoff; a zero
// cutoff purges nothing of its class.
type PurgeOptions struct {
	// TextBefore: title, body and URL.
	TextBefore time.Time
	// ContactsBefore: the contact pseudonyms.
	ContactsBefore time.Time
	// DryRun counts without writing.
	DryRun bool
}

// PurgeStats count what a purge removed (or would remove, with DryRun).
type PurgeStats struct {
	Examined int `json:"examined"` // documents looked at
	Texts    int `json:"texts"`    // documents whose text was removed
	Contacts int `json:"contacts"` // documents whose contacts were removed
}
