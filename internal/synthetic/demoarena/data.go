package demoarena

// The word lists the corpus is drawn from. Everything here is bland and
// non-explicit on purpose: the demo arenas look like escort directories in
// layout only.

// Town is a Swedish town and its län.
type Town struct{ Name, Region string }

type city = Town

// Towns returns the Swedish towns synthetic adverts are placed in, with
// their län, largest first (the demo and internal/synthetic/synth draw the first ones
// more often). The slice is a copy.
func Towns() []Town { return append([]Town(nil), cities...) }

// cities are Swedish towns with their län; the first ones are drawn more
// often (see pickCity).
var cities = []city{
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

// First names by origin. Each list has distinct names; the corpus adds a few
// deliberate collisions between persons itself.
var (
	namesSwedishF = []string{
		"Anna", "Sara", "Emma", "Linnea", "Elin", "Maja", "Julia", "Ida", "Moa",
		"Hanna", "Klara", "Ebba", "Alva", "Wilma", "Felicia", "Nora", "Tove",
		"Saga", "Alice", "Sofia", "Mikaela", "Jessica", "Lisa", "Jenny",
		"Camilla", "Sandra", "Petra", "Malin", "Frida", "Josefin", "Amanda",
		"Rebecka", "Stella", "Melissa", "Therese", "Louise", "Matilda", "Agnes",
		"Cornelia", "Nathalie", "Emelie", "Johanna", "Caroline", "Vera",
	}
	namesIntlF = []string{
		"Bianca", "Nicole", "Mia", "Nadia", "Lara", "Amira", "Leila", "Yasmin",
		"Carmen", "Isabella", "Vanessa", "Paula", "Daria", "Elena", "Tina",
		"Monika", "Lena", "Valentina",
	}
	namesPolishF   = []string{"Kasia", "Agnieszka", "Magda", "Ola", "Natalia"}
	namesRomanianF = []string{"Ioana", "Andreea", "Roxana", "Alina"}
	namesEnglishF  = []string{"Chloe", "Lucy", "Victoria", "Holly", "Grace"}
	namesM         = []string{"Erik", "Johan", "Marcus", "Daniel", "Viktor", "Adam", "Leo", "Oscar"}
	namesTrans     = []string{"Robin", "Kim", "Alex", "Charlie"}
)

// Ad text, Swedish. {N} name, {A} age, {C} city, {T} visited city.
var (
	svTitles = []string{
		"{N}, {A} – {C}",
		"Ny i {C}: {N} {A} år",
		"{N} – trevlig och diskret i {C}",
		"Hej från {N} i {C}",
		"{N} {A} år, {C}",
		"{N} i {C} – välkommen",
	}
	svIntros = []string{
		"Hej! Jag heter {N}, {A} år, finns i {C}.",
		"Hej, {N} här – {A} år och bor i {C}.",
		"Mitt namn är {N}, jag är {A} år och finns i {C}.",
		"Hejsan! {N} heter jag, {A} år, från {C}.",
	}
	svMiddles = []string{
		"Trevlig och diskret.",
		"Lugn och glad person som gillar att prata.",
		"Kan träffas på hotell i centrum.",
		"Pratar svenska och engelska.",
		"Välvårdad och alltid i tid.",
		"Boka gärna ett par timmar i förväg.",
		"Tillgänglig både vardagar och helger.",
		"Respekt och god hygien är viktigt för mig.",
		"Gillar promenader, musik och god mat.",
	}
	svClosings = []string{
		"Ring eller sms:a.",
		"Skicka ett sms så hör jag av mig.",
		"Svarar inte på dolda nummer.",
		"Endast seriösa förfrågningar.",
		"Välkommen att höra av dig!",
	}
	svTour     = "Besöker {T} den här veckan."
	svPhoneTxt = []string{"Ring eller sms:a {P}.", "Nummer: {P}", "Nå mig på {P}."}
)

// Ad text, English.
var (
	enTitles = []string{
		"{N}, {A} – {C}",
		"New in {C}: {N}, {A}",
		"{N} – friendly & discreet in {C}",
		"Hello from {N} in {C}",
		"{N} ({A}) {C}",
		"{N} in {C} – welcome",
	}
	enIntros = []string{
		"Hi! I'm {N}, {A}, based in {C}.",
		"Hello, my name is {N}, {A} years old, now in {C}.",
		"{N} here – {A}, living in {C}.",
		"Hi there, I am {N} ({A}) from {C}.",
	}
	enMiddles = []string{
		"Friendly and discreet.",
		"Calm, cheerful and easy to talk to.",
		"I speak English and a little Swedish.",
		"Hotel visits possible.",
		"Well groomed and always on time.",
		"Please book a few hours in advance.",
		"Available weekdays and weekends.",
		"Respect and good hygiene are important to me.",
		"I enjoy long walks, music and good food.",
	}
	enClosings = []string{
		"Call or text.",
		"Send me a text and I will answer.",
		"No hidden numbers please.",
		"Serious requests only.",
		"Welcome to get in touch!",
	}
	enTour     = "Visiting {T} this week."
	enPhoneTxt = []string{"Call or text: {P}", "My number: {P}", "Reach me on {P}."}
)
