package contact_test

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"adcensus/ad"
)

// Advert texts for BenchmarkApply and the fast-path test: short Swedish and
// English adverts of 200 to 1,500 characters built from ordinary sentences
// (prices, ages, times, dates, words such as "snap", "sex", "one", "at" and
// "@" used as ordinary text), a minority with contacts in the forms
// adverts use: phones plain, international, with letters O, as words,
// full-width, keycaps; e-mails plain and obfuscated; handles after
// keywords and as profile links.

var corpusSentences = []string{
	"Hej! Jag heter Anna och är en glad och positiv tjej på 28 år.",
	"Jag finns i centrala Göteborg och tar emot i egen lägenhet nära stationen.",
	"Diskret och trevlig, endast seriösa förfrågningar tack.",
	"Pris: 1 500 kr/h, 2 500 kr för 2 timmar, hela natten enligt överenskommelse.",
	"Öppet alla dagar 10-22, helger efter 12.",
	"Hi, I'm new in town, friendly, discreet and always on time.",
	"Available for outcalls to hotels in Stockholm city and Solna.",
	"No rush, relaxed atmosphere, shower and towels available.",
	"Boka gärna i god tid, helst dagen innan, så hinner jag förbereda.",
	"Jag pratar svenska, engelska och lite spanska.",
	"Ålder 24 år, 165 cm, 55 kg, storlek 36.",
	"Se fler bilder på min profil, alla är äkta och nytagna.",
	"Look at my photos and send me a message if you like what you see.",
	"Meet me at the hotel lobby, I will be waiting at the bar.",
	"Pris 500 @ timme, 900 @ två timmar.",
	"I snap photos for fun and love long walks by the sea.",
	"Sex år i branschen, alltid lika glad att träffa nya människor.",
	"One hour is 1500, two hours 2500, overnight on request.",
	"Ett möte i lugn och ro, utan stress, är det bästa jag vet.",
	"Träffas @ 20.00 vid stationen om du vill ta en drink först.",
	"Datum 2026-01-05 och 05/01/2026 kl 20.00 är redan bokade.",
	"Postnummer 411 06 Göteborg, parkering finns på gatan.",
	"Tider 10.00-22.00 och 12.30-13.30 på lördagar.",
	"Jag är en tjej med glimten i ögat som gillar att skratta.",
	"Tre saker jag älskar: god mat, resor och trevliga samtal.",
	"Signal 2x i porten så öppnar jag.",
	"Kom som du är, jag tar hand om resten.",
	"Endast för vuxna över 18 år. Inga foton utan överenskommelse.",
	"Staying at a central hotel until Sunday, book early.",
	"Följ @stadsguiden för nyheter om staden.",
	"Lägg till mig och skicka ett meddelande, jag svarar snabbt.",
	"Prices are fixed, no negotiation, cash or Swish only.",
	"Besöker Malmö 12-14 mars och Lund 15 mars.",
	"Mjuka händer, lugn musik och ett varmt rum väntar.",
	"Visit me at my studio, two minutes from the metro.",
	"Ordernummer 123456789, referens 4711-2233 gäller inte här.",
}

var corpusContacts = []string{
	"Ring 070-%03d %02d %02d.",
	"Sms: +46 70 %03d %02d %02d",
	"Tel 0046 73%03d%02d%02d efter 10.",
	"Ring O7O-%03d%02d%02d",
	"Nummer: noll sju noll ett två tre fyra fem sex sju",
	"Call zero seven three nine eight seven six five four three",
	"Ring ０７０－%03d %02d %02d",
	"0️⃣7️⃣0️⃣1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣7️⃣ ring mig",
	"Sms +48 512 %03d %03d om du är från Polen.",
	"Mejla anna%d@example.com tack.",
	"Mejla anna%d (at) example dot com!",
	"Write to lisa%d at mail dot example dot se today.",
	"Mejl: maria.k_%d [at] mail [punkt] se",
	"snap: anna_%d",
	"Lägg till mig på kik lisa.%d idag",
	"Telegram → maria%d",
	"t.me/anna%d för bokning",
	"insta/IG: lisa.k%d",
	"WhatsApp: +46 70 %03d %02d %02d",
	"wa.me/4670%03d%02d%02d",
	"Viber 073-%03d %02d %02d",
	"instagram.com/anna.k%d",
}

// corpusAd builds advert i: about 30 % of adverts carry one or two
// contacts in the body, some a phones field.
func corpusAd(r *rand.Rand, i int) *ad.Ad {
	var b strings.Builder
	target := 200 + r.IntN(1300)
	for b.Len() < target {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(corpusSentences[r.IntN(len(corpusSentences))])
	}
	body := b.String()
	a := &ad.Ad{ID: fmt.Sprintf("ad%d", i), Title: corpusTitle(r)}
	if r.IntN(10) < 3 {
		for range 1 + r.IntN(2) {
			c := corpusContacts[r.IntN(len(corpusContacts))]
			c = fmt.Sprintf(c, r.IntN(1000), r.IntN(100), r.IntN(100))
			if k := strings.Index(c, "%!"); k >= 0 { // fewer verbs than arguments
				c = c[:k]
			}
			cut := strings.LastIndex(body[:r.IntN(len(body))+1], ". ")
			if cut < 0 {
				body = c + " " + body
			} else {
				body = body[:cut+2] + c + " " + body[cut+2:]
			}
		}
	}
	if r.IntN(10) < 2 {
		a.Phones = []string{fmt.Sprintf("070-%03d %02d %02d", r.IntN(1000), r.IntN(100), r.IntN(100))}
	}
	a.Body = body
	return a
}

var corpusTitles = []string{
	"Ny i stan", "Anna, 28, Göteborg", "Diskret möte i Malmö", "New in Stockholm",
	"Lisa – bara denna vecka", "Trevlig tjej i centrala Uppsala", "Maria 24 år",
	"Relax & massage", "Besöker Lund 12-14 mars",
}

func corpusTitle(r *rand.Rand) string {
	return corpusTitles[r.IntN(len(corpusTitles))]
}

// corpus returns n adverts, the same for the same seed.
func corpus(seed uint64, n int) []*ad.Ad {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]*ad.Ad, n)
	for i := range out {
		out[i] = corpusAd(r, i)
	}
	return out
}
