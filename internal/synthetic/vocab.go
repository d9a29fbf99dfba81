package synthetic

// The vocabulary of synthetic adverts. Everything here is bland and
// non-explicit on purpose: the fixtures look like escort directories in
// layout and structure only.
//
// The lists are read-only. Their order and lengths are part of every
// generated corpus (a seeded generator draws by index), and the demo corpus
// and both styles of the labelled corpora are pinned by digest tests
// (TestDemoCorpusUnchanged, TestDefaultStyleUnchanged,
// TestVariedStyleUnchanged): appending to a list changes
// the output of each generator that draws from all of it. The demo arenas
// draw from the first entries of most lists (demoarena/words.go), the corpus
// generator from the first Swedish names only (synth/words.go).

// Town is a Swedish town and its län.
type Town struct{ Name, Region string }

// Towns are Swedish towns with their län, largest first (the generators
// draw the first ones more often).
var Towns = []Town{
	{"Stockholm", "Stockholms län"},
	{"Göteborg", "Västra Götalands län"},
	{"Malmö", "Skåne län"},
	{"Uppsala", "Uppsala län"},
	{"Västerås", "Västmanlands län"},
	{"Örebro", "Örebro län"},
	{"Linköping", "Östergötlands län"},
	{"Helsingborg", "Skåne län"},
	{"Jönköping", "Jönköpings län"},
	{"Norrköping", "Östergötlands län"},
	{"Lund", "Skåne län"},
	{"Umeå", "Västerbottens län"},
	{"Gävle", "Gävleborgs län"},
	{"Borås", "Västra Götalands län"},
	{"Södertälje", "Stockholms län"},
	{"Eskilstuna", "Södermanlands län"},
	{"Karlstad", "Värmlands län"},
	{"Växjö", "Kronobergs län"},
	{"Sundsvall", "Västernorrlands län"},
	{"Luleå", "Norrbottens län"},
	{"Halmstad", "Hallands län"},
	{"Kalmar", "Kalmar län"},
	{"Falun", "Dalarnas län"},
	{"Kristianstad", "Skåne län"},
	{"Östersund", "Jämtlands län"},
	{"Karlskrona", "Blekinge län"},
	{"Visby", "Gotlands län"},
}

// First names: of women by origin, then of men and of trans persons. Each
// list has distinct names; the generators add collisions between persons
// themselves.
var (
	NamesSwedish = []string{
		"Anna", "Sara", "Emma", "Linnea", "Elin", "Maja", "Julia", "Ida", "Moa",
		"Hanna", "Klara", "Ebba", "Alva", "Wilma", "Felicia", "Nora", "Tove",
		"Saga", "Alice", "Sofia", "Mikaela", "Jessica", "Lisa", "Jenny",
		"Camilla", "Sandra", "Petra", "Malin", "Frida", "Josefin", "Amanda",
		"Rebecka", "Stella", "Melissa", "Therese", "Louise", "Matilda", "Agnes",
		"Cornelia", "Nathalie", "Emelie", "Johanna", "Caroline", "Vera",
	}
	NamesInternational = []string{
		"Bianca", "Nicole", "Mia", "Nadia", "Lara", "Amira", "Leila", "Yasmin",
		"Carmen", "Isabella", "Vanessa", "Paula", "Daria", "Elena", "Tina",
		"Monika", "Lena", "Valentina", "Sabrina", "Jasmine",
	}
	NamesPolish   = []string{"Kasia", "Agnieszka", "Magda", "Ola", "Natalia", "Ewa", "Marta", "Zuzanna", "Monika"}
	NamesRomanian = []string{"Ioana", "Andreea", "Roxana", "Alina", "Bianca", "Elena", "Denisa", "Larisa"}
	NamesEnglish  = []string{"Chloe", "Lucy", "Victoria", "Holly", "Grace", "Amber", "Sophie"}
	NamesNigerian = []string{"Blessing", "Joy", "Precious", "Favour", "Esther", "Mercy", "Grace", "Faith"}
	NamesMen      = []string{"Erik", "Johan", "Marcus", "Daniel", "Viktor", "Adam", "Leo", "Oscar", "Mateo"}
	NamesTrans    = []string{"Robin", "Kim", "Alex", "Charlie", "Nikki"}
)

// Lang holds the advert text pieces of one language. Placeholders: {N}
// name, {A} age, {C} city, {T} visited city, {P} phone.
type Lang struct {
	Titles, Intros, Middles, Closings, PhoneLines, Extras []string
	Tour, TourTitle                                       string
	BlankTitles                                           []string // no name
	AgencyLines                                           []string
	Synonyms                                              [][2]string
}

// Swedish holds the Swedish text pieces.
var Swedish = Lang{
	Titles: []string{
		"{N}, {A} – {C}",
		"Ny i {C}: {N} {A} år",
		"{N} – trevlig och diskret i {C}",
		"Hej från {N} i {C}",
		"{N} {A} år, {C}",
		"{N} i {C} – välkommen",
		"Sällskap i {C} – {N}",
	},
	Intros: []string{
		"Hej! Jag heter {N}, {A} år, finns i {C}.",
		"Hej, {N} här – {A} år och bor i {C}.",
		"Mitt namn är {N}, jag är {A} år och finns i {C}.",
		"Hejsan! {N} heter jag, {A} år, från {C}.",
		"Välkommen till min annons. Jag heter {N} och är {A} år.",
	},
	Middles: []string{
		"Trevlig och diskret.",
		"Lugn och glad person som gillar att prata.",
		"Kan träffas på hotell i centrum.",
		"Pratar svenska och engelska.",
		"Välvårdad och alltid i tid.",
		"Boka gärna ett par timmar i förväg.",
		"Tillgänglig både vardagar och helger.",
		"Respekt och god hygien är viktigt för mig.",
		"Gillar promenader, musik och god mat.",
		"Sällskap till middag eller fika går bra.",
		"Jag har en lugn och trevlig lägenhet nära stationen.",
		"Kontant eller swish, enligt överenskommelse.",
		"Jag tar emot vuxna gäster som visar respekt.",
		"Alltid glad och positiv.",
	},
	Closings: []string{
		"Ring eller sms:a.",
		"Skicka ett sms så hör jag av mig.",
		"Svarar inte på dolda nummer.",
		"Endast seriösa förfrågningar.",
		"Välkommen att höra av dig!",
		"Kram och hoppas vi ses.",
	},
	PhoneLines: []string{"Ring eller sms:a {P}.", "Nummer: {P}", "Nå mig på {P}.", "Tel {P}", "Sms {P} (inga dolda nummer)"},
	Extras: []string{
		"Nya bilder!",
		"Uppdaterad annons.",
		"Tillbaka efter semestern.",
		"Endast förbokning denna vecka.",
		"Obs: nytt nummer.",
		"Lediga tider i kväll.",
	},
	Tour:        "Besöker {T} den här veckan.",
	TourTitle:   "{N} på besök i {T}",
	BlankTitles: []string{"Ny i {C} – ring nu", "Ledig i kväll i {C}", "Sällskap i {C}"},
	AgencyLines: []string{
		"Bokning sker via vår reception dygnet runt.",
		"Ring receptionen för tider och information.",
		"Vi svarar alla dagar mellan 10 och 02.",
		"Fler profiler finns på vår sida.",
	},
	Synonyms: [][2]string{
		{"trevlig", "snäll"}, {"diskret", "lugn"}, {"glad", "positiv"},
		{"boka", "reservera"}, {"hotell", "hotellrum"}, {"tillgänglig", "ledig"},
		{"gillar", "tycker om"}, {"alltid", "nästan alltid"}, {"välkommen", "varmt välkommen"},
		{"centrum", "stan"}, {"sms:a", "skicka sms"},
	},
}

// English holds the English text pieces.
var English = Lang{
	Titles: []string{
		"{N}, {A} – {C}",
		"New in {C}: {N}, {A}",
		"{N} – friendly & discreet in {C}",
		"Hello from {N} in {C}",
		"{N} ({A}) {C}",
		"{N} in {C} – welcome",
		"Company in {C} – {N}",
	},
	Intros: []string{
		"Hi! I'm {N}, {A}, based in {C}.",
		"Hello, my name is {N}, {A} years old, now in {C}.",
		"{N} here – {A}, living in {C}.",
		"Hi there, I am {N} ({A}) from {C}.",
		"Welcome to my page. I am {N} and I am {A}.",
	},
	Middles: []string{
		"Friendly and discreet.",
		"Calm, cheerful and easy to talk to.",
		"I speak English and a little Swedish.",
		"Hotel visits possible.",
		"Well groomed and always on time.",
		"Please book a few hours in advance.",
		"Available weekdays and weekends.",
		"Respect and good hygiene are important to me.",
		"I enjoy long walks, music and good food.",
		"Happy to join you for dinner or coffee.",
		"I have a quiet and nice apartment near the station.",
		"Cash or transfer, as agreed.",
		"Adult guests with good manners only.",
		"Always smiling and positive.",
	},
	Closings: []string{
		"Call or text.",
		"Send me a text and I will answer.",
		"No hidden numbers please.",
		"Serious requests only.",
		"Welcome to get in touch!",
		"Hope to see you soon.",
	},
	PhoneLines: []string{"Call or text: {P}", "My number: {P}", "Reach me on {P}.", "Tel {P}", "Text {P} (no hidden numbers)"},
	Extras: []string{
		"New photos!",
		"Updated profile.",
		"Back from holiday.",
		"Bookings in advance only this week.",
		"Note: new number.",
		"Free tonight.",
	},
	Tour:        "Visiting {T} this week.",
	TourTitle:   "{N} visiting {T}",
	BlankTitles: []string{"New in {C} – call now", "Free tonight in {C}", "Company in {C}"},
	AgencyLines: []string{
		"Bookings through our reception day and night.",
		"Call the reception for times and information.",
		"We answer every day from 10 am to 2 am.",
		"More profiles on our page.",
	},
	Synonyms: [][2]string{
		{"friendly", "kind"}, {"discreet", "calm"}, {"cheerful", "happy"},
		{"book", "reserve"}, {"hotel", "hotel room"}, {"available", "free"},
		{"enjoy", "love"}, {"always", "nearly always"}, {"welcome", "very welcome"},
		{"nice", "lovely"}, {"text", "message"},
	},
}
