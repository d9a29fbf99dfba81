package bleve_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"adcensus/ad"
)

// Synthetic adverts for the benchmarks: bland, adults-only, with field
// distributions shaped like the crawled arenas (a few large arenas and a
// tail, cities by population with their län, 80 % Swedish text, dates over
// two years in crawl order, persons advertising over a few weeks each).

type weighted[T any] struct {
	v T
	w int
}

func pick[T any](r *rand.Rand, ws []weighted[T], total int) T {
	n := r.IntN(total)
	for _, x := range ws {
		if n < x.w {
			return x.v
		}
		n -= x.w
	}
	return ws[len(ws)-1].v
}

func sum[T any](ws []weighted[T]) int {
	t := 0
	for _, x := range ws {
		t += x.w
	}
	return t
}

var synthArenas = []weighted[string]{
	{"blomstra", 34}, {"annonsia", 24}, {"rosenrum", 14}, {"kvallsro", 11}, {"nattljus", 9}, {"sidenband", 5}, {"lugnahand", 3},
}

type place struct{ city, region string }

// Cities weighted roughly by population.
var synthPlaces = []weighted[place]{
	{place{"Stockholm", "Stockholms län"}, 300}, {place{"Göteborg", "Västra Götalands län"}, 150},
	{place{"Malmö", "Skåne län"}, 100}, {place{"Uppsala", "Uppsala län"}, 45}, {place{"Västerås", "Västmanlands län"}, 30},
	{place{"Örebro", "Örebro län"}, 30}, {place{"Linköping", "Östergötlands län"}, 30}, {place{"Helsingborg", "Skåne län"}, 28},
	{place{"Jönköping", "Jönköpings län"}, 28}, {place{"Norrköping", "Östergötlands län"}, 26}, {place{"Lund", "Skåne län"}, 24},
	{place{"Umeå", "Västerbottens län"}, 24}, {place{"Gävle", "Gävleborgs län"}, 20}, {place{"Borås", "Västra Götalands län"}, 20},
	{place{"Södertälje", "Stockholms län"}, 20}, {place{"Eskilstuna", "Södermanlands län"}, 18}, {place{"Halmstad", "Hallands län"}, 18},
	{place{"Växjö", "Kronobergs län"}, 16}, {place{"Karlstad", "Värmlands län"}, 16}, {place{"Sundsvall", "Västernorrlands län"}, 14},
	{place{"Luleå", "Norrbottens län"}, 12}, {place{"Östersund", "Jämtlands län"}, 10}, {place{"Falun", "Dalarnas län"}, 10},
	{place{"Kalmar", "Kalmar län"}, 10}, {place{"Kristianstad", "Skåne län"}, 9}, {place{"Karlskrona", "Blekinge län"}, 9},
	{place{"Visby", "Gotlands län"}, 5}, {place{"Skövde", "Västra Götalands län"}, 8}, {place{"Trollhättan", "Västra Götalands län"}, 8},
	{place{"Nyköping", "Södermanlands län"}, 7},
}

var synthGenders = []weighted[string]{{"kvinna", 86}, {"man", 8}, {"trans", 6}}

var (
	svTitles = []string{
		"Trevlig massage i %s", "Sällskap i %s", "Ny i %s", "Avslappnande stund i %s", "Diskret träff i %s",
		"Mysig kväll i %s", "Helkroppsmassage %s", "Lugn och skön massage", "Välkommen till mig i %s", "Besöker %s denna vecka",
	}
	svSentences = []string{
		"Hej och välkommen till min annons.", "Jag erbjuder avslappnande massage i lugn miljö.",
		"Ring eller skicka ett meddelande för att boka tid.", "Jag finns i centrala %s.", "Diskret och trevligt bemötande.",
		"Jag tar emot på hotell eller hemma hos mig.", "Dusch och handdukar finns.", "Jag är en glad och social person.",
		"Bokning minst en timme innan.", "Tider på dagtid och kvällstid.", "Jag besöker %s bara några dagar.",
		"Pris enligt överenskommelse.", "Jag pratar svenska och engelska.", "Lugn musik och mjukt ljus.",
		"Jag svarar inte på dolda nummer.", "Kom som du är, ingen stress.", "Välkommen med din fråga.",
		"Jag har lång erfarenhet av massage.", "Fräscht och rent hos mig.", "Parkering finns nära.",
	}
	enTitles = []string{
		"Relaxing massage in %s", "Company in %s", "New in %s", "Visiting %s this week", "Calm evening in %s",
		"Full body massage %s", "Discreet meeting in %s",
	}
	enSentences = []string{
		"Hello and welcome to my advert.", "I offer relaxing massage in a calm place.",
		"Call or send a message to book a time.", "I am in central %s.", "Discreet and friendly.",
		"I receive at a hotel or at my place.", "Shower and towels are available.", "I am a happy and social person.",
		"Book at least one hour before.", "Day and evening times.", "I am visiting %s only for a few days.",
		"Price by agreement.", "I speak English and some Swedish.", "Soft music and warm light.",
		"No hidden numbers please.", "Parking is close by.",
	}
)

// synth generates n adverts in crawl order with their assignments.
type synth struct {
	r                 *rand.Rand
	n, i              int
	start             time.Time
	span              time.Duration
	arenaW, placeW, g int
}

func newSynth(n int, seed uint64) *synth {
	start := time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)
	return &synth{
		r: rand.New(rand.NewPCG(seed, 1)), n: n, start: start, span: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC).Sub(start),
		arenaW: sum(synthArenas), placeW: sum(synthPlaces), g: sum(synthGenders),
	}
}

// next returns the next advert and its assignment; ok is false after n.
func (s *synth) next() (fp *ad.Fingerprinted, a ad.Assignment, ok bool) {
	if s.i >= s.n {
		return nil, ad.Assignment{}, false
	}
	r, i := s.r, s.i
	s.i++
	// Persons: about 5 adverts each, over a window of a few weeks.
	p := max(0, i/5+r.IntN(4000)-2000)
	pr := rand.New(rand.NewPCG(uint64(p), 7)) // the person's stable traits
	pl := pick(pr, synthPlaces, s.placeW)
	if r.IntN(5) == 0 { // touring: another city now and then
		pl = pick(r, synthPlaces, s.placeW)
	}
	english := pr.IntN(5) == 0
	gender := pick(pr, synthGenders, s.g)
	age := 19 + pr.IntN(27)
	fetched := s.start.Add(time.Duration(float64(s.span) * float64(i) / float64(s.n)))
	posted := fetched.Add(-time.Duration(r.IntN(72*3600)) * time.Second)
	titles, sentences := svTitles, svSentences
	if english {
		titles, sentences = enTitles, enSentences
	}
	title := fmt.Sprintf(titles[r.IntN(len(titles))], pl.city)
	var body strings.Builder
	for range 3 + r.IntN(4) {
		s := sentences[r.IntN(len(sentences))]
		if strings.Contains(s, "%s") {
			s = fmt.Sprintf(s, pl.city)
		}
		body.WriteString(s)
		body.WriteByte(' ')
	}
	arena := pick(r, synthArenas, s.arenaW)
	id := fmt.Sprintf("%s-%07d", arena, i)
	fp = &ad.Fingerprinted{
		Ad: ad.Ad{
			ID: id, Arena: arena, URL: "http://127.0.0.1/" + id, FetchedAt: fetched, PostedAt: posted,
			Title: title, Body: strings.TrimSpace(body.String()), Age: age, City: pl.city, Region: pl.region, Gender: gender,
		},
		Contacts:         []string{fmt.Sprintf("tel:%016x", uint64(p/3)*0x9e3779b97f4a7c15)},
		ContactCountries: []string{"+46"},
	}
	a = ad.Assignment{AdID: id, PersonID: fmt.Sprintf("P%07d", p), NetworkID: fmt.Sprintf("N%07d", p/3)}
	return fp, a, true
}

// batch returns up to n adverts with their assignments.
func (s *synth) batch(n int) ([]*ad.Fingerprinted, []ad.Assignment) {
	var fps []*ad.Fingerprinted
	var asg []ad.Assignment
	for range n {
		fp, a, ok := s.next()
		if !ok {
			break
		}
		fps = append(fps, fp)
		asg = append(asg, a)
	}
	return fps, asg
}
