package contact_test

import (
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"adcensus/ad"
	"adcensus/internal/contact"

	"github.com/nyaruka/phonenumbers/v2"
)

// fragments are the pieces of the texts TestFastPathMatchesReference
// builds: contact-like and look-alike material for every scan, in several
// cases and scripts, with characters that case folding, invalid UTF-8 and
// libphonenumber's extension and time rules make special.
var fragments = []string{
	"anna", "Anna", "lisa.k", "maria_92", "example", "mail", "hotell", "com", "se", "nu", "co", "uk", "png", "jpeg",
	"@", "＠", "at", "AT", "At", "(at)", "[at]", "{AT}", "<at>", "(@)", "snabel-a", "snabela", "(snabel-a)", "Snabel",
	"dot", "DOT", "punkt", "(dot)", "[punkt]", ".", " . ", "．", "..", "look", "me", "see",
	"snap", "Snap", "SNAP", "snapchat", "sc", "kik", "Kik", "telegram", "tg", "ig", "IG", "insta", "instagram", "signal",
	"onlyfans", "twitter", "wa", "WA", "whatsapp", "WhatsApp", "whats app", "wapp", "viber", "Viber",
	"t.me/", "T.ME/", "telegram.me/", "instagram.com/", "instagr.am/", "snapchat.com/add/", "kik.me/", "onlyfans.com/",
	"twitter.com/", "x.com/", "wa.me/", "https://", "http://www.", "www.", "/p/", "joinchat",
	":", ": ", "=", "->", "→", " - ", "–", "—", " is ", " är ", " heter ", "/", " / ", ",", "&", "+", "|", " och ", " or ",
	"användarnamn", "name", "id", "_", "-", "@anna92", "@stadsguiden",
	"070", "073", "08", "123", "45", "67", "174", "06", "1234567", "0701234567", "+46", "0046", "46", "+48", "512", "345", "678",
	"+44", "7700", "900123", "+43", "1234", "+49", "30", "+1", "650", "253", "0000",
	"O", "o", "OO", "noll", "Noll", "sju", "ett", "två", "tva", "tre", "fyra", "fem", "sex", "åtta", "nio",
	"zero", "one", "two", "three", "seven", "nine", "０", "７", "１", "＋", "－", "1️⃣", "0⃣", "٣", "٤", "５",
	"ext", "ext.", "x", "X", "#", ";ext=", "anexo", "доб", "int", "2026-01-05", "05/01/2026", "12:30", ":30", "20.00",
	"10.00-22.00", "1 500 kr", "kr/h", "år", "cm", "(0)", "(", ")", "[", "]", "{", "}", "<", ">", "（", "）",
	"ſ", "K", "ä", "Ö", "é", "\t", "\n", "\u00a0", "\u3000", "\xff", "\xc3", "!", "?", "%", "$", "€",
	"Hej", "Ring", "Sms", "Mejla", "Call", "Write to", "träffas", "pris",
}

func randomText(r *rand.Rand) string {
	var b strings.Builder
	for range 2 + r.IntN(30) {
		switch r.IntN(10) {
		case 0, 1, 2:
			b.WriteByte(' ')
		case 3:
			for range 1 + r.IntN(12) {
				b.WriteByte(byte('0' + r.IntN(10)))
			}
			continue
		}
		b.WriteString(fragments[r.IntN(len(fragments))])
	}
	return b.String()
}

// The fast paths give exactly what the code before them gave
// (reference_test.go): the same text, contacts, countries and problems,
// on the benchmark's advert texts, on texts built at random from contact
// and look-alike fragments, and on the cases of the other tests.
func TestFastPathMatchesReference(t *testing.T) {
	p := contact.New(testKey)
	nCorpus, n := 300, 6000
	if testing.Short() || raceEnabled {
		nCorpus, n = 100, 800
	}
	var ads []*ad.Ad
	ads = append(ads, corpus(7, nCorpus)...)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range n {
		a := &ad.Ad{ID: strconv.Itoa(i), Title: randomText(r), Body: randomText(r) + " " + randomText(r)}
		if r.IntN(4) == 0 {
			a.Phones = []string{randomText(r)}
		}
		if r.IntN(8) == 0 {
			a.Contacts = []string{"tel:existing"}
		}
		ads = append(ads, a)
	}
	for _, s := range []string{
		"Ring 070-123 45 67, mejla anna (at) example dot com, snap: anna_92, t.me/anna92, wa.me/46701234567",
		"foo at (at) example.com", "a at b at c.com", "x (at) (at) example dot com", "anna (x) (at) example dot se",
		"Hej! Sms +48 512 345 678 eller mejla anna.b@example.com. Boka 2 timmar.",
		"Call +44 7700 900123 today. Ref 7700900123. Price 1500.", "2012-01-02 08:00:30 070-1234567", "Ring +46 70 2026-01-02 08:30", "Ring 070 1234-01-02 08:30 tack", "+46 8 1999-01-01 12:45",
		"snapchat: ſnap anna_92 Kik: lisa.k", "whats  app: +46 70 123 45 67", "xsnap: anna_92 snap: anna_92",
		"anna@example.com@example.se", "logo@2x.png och foto@3x.jpeg anna@example.se",
		"070-123 45 67 ext. 123", "070-123 45 67 # 12", "Ring 070-123 45 67 - 12# nu", "Ring +46 70 123 45 67 x 12#.", "Ring +46 70 123 45 67 ext 12#.", "0701234567;ext=12", "+43 1234 och +49 30 1234",
	} {
		ads = append(ads, &ad.Ad{ID: "case", Body: s, Title: s})
	}
	for _, a := range ads {
		want, got := *a, *a
		wantProblems := p.ReferenceApply(&want)
		gotProblems := p.Apply(&got)
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotProblems, wantProblems) {
			t.Fatalf("advert %q %q phones %q:\nApply     %q %q %q %q %q\nreference %q %q %q %q %q", a.Title, a.Body, a.Phones,
				got.Title, got.Body, got.Contacts, got.ContactCountries, gotProblems,
				want.Title, want.Body, want.Contacts, want.ContactCountries, wantProblems)
		}
	}
}

// minPhoneDigits holds for the metadata in use: no country's calling code
// and shortest possible national number make fewer digits, nor the trunk
// 0 and the shortest Swedish number.
func TestMinPhoneDigits(t *testing.T) {
	col, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	for _, md := range col.GetMetadata() {
		shortest := int32(1 << 30)
		for _, l := range md.GetGeneralDesc().GetPossibleLength() {
			shortest = min(shortest, l)
		}
		if n := len(strconv.Itoa(int(md.GetCountryCode()))) + int(shortest); n < contact.MinPhoneDigits {
			t.Errorf("%s: +%d and %d digits make %d digits, fewer than %d", md.GetId(), md.GetCountryCode(), shortest, n, contact.MinPhoneDigits)
		}
		if md.GetId() == contact.Region && 1+int(shortest) < contact.MinPhoneDigits {
			t.Errorf("%s: trunk 0 and %d digits make fewer than %d", md.GetId(), shortest, contact.MinPhoneDigits)
		}
	}
}
