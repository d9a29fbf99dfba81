// Swedish and English texts. t(key, …args) fills {0}, {1}, …; the choice
// is kept in localStorage and set as <html lang>.

const STORE = 'adcensus-lang';

const sv = {
  'skip': 'Hoppa till innehållet',
  'nav.label': 'Huvudmeny',
  'nav.search': 'Sök', 'nav.patterns': 'Mönster', 'nav.counts': 'Antal', 'nav.runs': 'Arenor och körningar', 'nav.admin': 'Logg, användare, nycklar',
  'signedInAs': 'Inloggad som {0} ({1})', 'signOut': 'Logga ut',
  'role.admin': 'administratör', 'role.operator': 'driftansvarig', 'role.analyst': 'analytiker', 'role.researcher': 'forskare',
  'signin.title': 'Logga in', 'signin.intro': 'Logga in med ditt användarnamn och lösenord.',
  'signin.user': 'Användarnamn', 'signin.password': 'Lösenord', 'signin.submit': 'Logga in',
  'signin.oidc': 'Logga in med organisationens konto',
  'signin.wrong': 'Fel användarnamn eller lösenord.', 'signin.throttled': 'För många försök. Vänta en stund och försök igen.',
  'forbidden.title': 'Åtkomst nekad (403)',
  'forbidden.text': 'Din roll får inte se den här sidan. Försöket har skrivits i granskningsloggen.',
  'error.title': 'Något gick fel', 'notFound.title': 'Sidan finns inte', 'notFound.text': 'Välj en sida i menyn.',
  'none': 'inga', 'unknown': 'okänt', 'unit.persons': 'Personer', 'unit.ads': 'Annonser',
  'search.title': 'Sök annonser', 'search.label': 'Sökord', 'search.submit': 'Sök',
  'search.help': 'Skiftläge och accenter spelar ingen roll: goteborg hittar Göteborg. Fält: city:"Lund", +arena:x, -ord.',
  'search.facets': 'Filter', 'search.persons': '{0} personer', 'search.adverts': '{0} annonser', 'search.took': '({0} ms)',
  'search.tooBroad': 'För många träffar för att gruppera per person: annonserna visas var för sig. Smalna av sökningen.',
  'search.none': 'Inga träffar.', 'search.person': 'Person {0}', 'search.advertCount': '{0} annonser i träffen', 'search.network': 'nätverk {0}',
  'search.pages': 'Sidor', 'search.prev': '← Föregående', 'search.next': 'Nästa →',
  'facet.arena': 'Arena', 'facet.region': 'Län', 'facet.city': 'Ort', 'facet.week': 'Vecka', 'facet.gender': 'Kön',
  'facet.possible_minor': 'Tecken på minderårig', 'facet.possible_minor.true': 'ja', 'facet.possible_minor.false': 'nej',
  'facet.contact_countries': 'Landsnummer',
  'advert.id': 'Id', 'advert.title': 'Rubrik', 'advert.arena': 'Arena', 'advert.url': 'Adress', 'advert.age': 'Ålder',
  'advert.city': 'Ort', 'advert.region': 'Län', 'advert.gender': 'Kön', 'advert.posted': 'Publicerad', 'advert.fetched': 'Hämtad',
  'advert.week': 'Vecka', 'advert.person': 'Person', 'advert.network': 'Nätverk', 'advert.contacts': 'Kontakter (pseudonymer)',
  'advert.countries': 'Landsnummer', 'advert.unassigned': 'ännu inte tilldelad', 'advert.text': 'Annonstext',
  'advert.minorFlag': 'Annonsen har tecken på att personen kan vara minderårig: en indikator att granska, inte ett konstaterande.',
  'advert.photos': 'Bilder sparas inte; de jämförs med fingeravtryck (perceptuella hashar) i dedupliceringen.',
  'person.title': 'Person {0}', 'person.ads': 'Annonser', 'person.seen': 'Första – senaste', 'person.months': 'Aktiva månader',
  'person.arenas': 'Arenor', 'person.cities': 'Orter', 'person.networks': 'Nätverk', 'person.contacts': 'Kontakter (pseudonymer)',
  'person.timeline': 'Tidslinje', 'person.perMonth': 'Annonser per månad', 'person.adverts': 'Annonser i tidsordning',
  'person.more': 'Visar {0} av {1} annonser.',
  'person.reviewFlags': 'Mönster i köparnas recensioner', 'person.reviewFlagsNote': 'Indikatorer att granska, aldrig bevis. Recensionerna är kopplade till personen genom annonslänk, annons-id eller telefonnummer.',
  'person.reviewPattern': 'Mönster', 'person.reviewSigns': 'Tecken', 'person.reviewIds': 'Recensioner',
  'reviewPattern.youth': 'Tecken på ung ålder', 'reviewPattern.thirdParty': 'Tredje part eller tvång nämns',
  'reviewPattern.manyReviewers': 'Många köpare på kort tid',
  'evidence.title': 'Bevis för kopplingarna',
  'evidence.introPerson': 'Personens {0} annonser hänger ihop genom {1} länkar:',
  'evidence.introNetwork': 'Nätverkets {0} annonser hänger ihop genom {1} länkar:',
  'evidence.single': 'En ensam annons: inga kopplingar.', 'evidence.none': 'Ingen förklaring finns (klustertillståndet saknas).',
  'evidence.failed': 'Förklaringen kunde inte läsas just nu ({0}); försök igen om en stund.',
  'evidence.networkOnly': 'samma nätverk', 'evidence.stock': 'Bildbanksbilder (kopplar ingen)', 'evidence.templates': 'Mallar (kopplar ingen)',
  'evidence.shared': 'Delade kontakter med flera namn',
  'rule.image': 'samma bild', 'rule.contact+name': 'samma kontakt och namn', 'rule.contact+blank': 'samma kontakt, annonsen saknar namn och bild',
  'rule.contact+nameless': 'samma kontakt, inget namn', 'rule.text+name': 'nästan samma text och samma namn', 'rule.contact': 'samma kontakt (nätverk)',
  'network.title': 'Nätverk {0}', 'network.persons': 'Personer', 'network.contacts': 'Delade kontakter (pseudonymer)',
  'network.members': 'Personer i nätverket', 'network.graph': 'Kopplingar mellan personerna',
  'network.graphDesc': 'Graf med {0} personer och {1} kopplingar',
  'counts.title': 'Antal personer och annonser',
  'counts.intro': 'Deduplicerade antal: varje person räknas en gång. Små celler döljs.',
  'counts.total': 'Totalt {0} personer och {1} annonser (celler under {2} döljs).',
  'counts.totalInterval': 'Totalt {0} personer ({3} % intervall {4}–{5}) och {1} annonser (celler under {2} döljs).',
  'counts.perArena': 'Per arena', 'counts.perMonth': 'Över tid (per månad)', 'counts.perMonthArena': 'Personer per månad och arena',
  'counts.suppressedMark': '– betyder en dold cell: för få personer för att visas, eller dold för att en sådan inte ska kunna räknas fram.', 'counts.perRegion': 'Per län',
  'counts.split': 'Barn och vuxna per arena', 'counts.splitNote': 'Personer med tecken på att vara minderåriga räknas för sig.',
  'counts.minors': 'Möjligen minderåriga', 'counts.adults': 'Övriga',
  'counts.overlap': 'Överlapp mellan arenor', 'counts.pairs': 'Personer på båda arenorna', 'counts.arenaA': 'Arena', 'counts.arenaB': 'och arena',
  'counts.mse': 'Skattning med flera källor (MSE)', 'counts.observed': 'Observerade', 'counts.estimated': 'Skattat',
  'counts.mseText': '{0} personer observerade; skattat totalt {1} ({3} % intervall {2}–{4}).',
  'counts.noEstimate': 'Ingen skattning', 'counts.downloads': 'Ladda ner',
  'counts.downloadsNote': 'CSV för Excel har BOM, semikolon och decimalkomma och öppnas rätt i svenska Excel.',
  'counts.excel': 'CSV för Excel', 'counts.dlCounts': 'Antal per arena, län och månad', 'counts.dlSplit': 'Barn och vuxna',
  'counts.dlFacts': 'Fakta (fördelningar)', 'counts.dlOverlap': 'Överlapp och skattning',
  'patterns.title': 'Mönster', 'patterns.intro': 'Namngivna indikatormönster. En träff är en indikation att granska, inget bevis.',
  'patterns.name': 'Namn', 'patterns.level': 'Nivå', 'patterns.description': 'Beskrivning', 'patterns.run': 'Kör', 'patterns.runNamed': 'Kör {0}',
  'patterns.result': 'Träffar för {0}', 'patterns.summary': '{0} annonser granskade; {1} personer, {2} nätverk.',
  'patterns.caveat': 'Indikator för granskning, inget konstaterande.', 'patterns.download': 'Ladda ner (JSON)',
  'patterns.match': 'Träff', 'patterns.evidence': 'Villkor',
  'runs.title': 'Arenor och körningar', 'runs.intro': 'Senaste körningen per arena med schema och nästa start, och alla körningar med fel per slag.',
  'runs.arenas': 'Arenor', 'runs.all': 'Alla körningar', 'runs.id': 'Körning', 'runs.status': 'Status', 'runs.started': 'Startad',
  'runs.ended': 'Klar', 'runs.pages': 'Sidor', 'runs.ads': 'Annonser', 'runs.errors': 'Fel', 'runs.none': 'Inga körningar ännu.',
  'runs.cli': '{0} körningar. Crawlningar startas på servern med adcensus run.',
  'runs.schedule': 'Schema (cron)', 'runs.next': 'Nästa körning', 'runs.unscheduled': 'inget schema',
  'runs.st.running': 'pågår', 'runs.st.done': 'klar', 'runs.st.stopped': 'stoppad (gräns)', 'runs.st.failed': 'misslyckad',
  'admin.title': 'Granskningslogg, användare och nycklar', 'admin.users': 'Användare', 'admin.tokens': 'API-nycklar',
  'admin.name': 'Namn', 'admin.roles': 'Roller', 'admin.state': 'Läge', 'admin.created': 'Skapad', 'admin.active': 'aktiv',
  'admin.disabled': 'avstängd', 'admin.enable': 'Aktivera {0}', 'admin.disable': 'Stäng av {0}', 'admin.password': 'Lösenord (minst 12 tecken)',
  'admin.rolesHelp': 'Roller: admin, operator, analyst, researcher (flera med komma emellan).', 'admin.noTokens': 'Inga nycklar.',
  'admin.addUser': 'Lägg till användare', 'admin.id': 'Id', 'admin.expires': 'Går ut', 'admin.expiresIn': 'Giltig (t.ex. 90d)',
  'admin.revoked': 'återkallad', 'admin.expired': 'utgången', 'admin.revoke': 'Återkalla {0}', 'admin.createToken': 'Skapa nyckel',
  'admin.tokenOnce': 'Nyckeln visas bara nu. Spara den säkert:', 'admin.saved': 'Sparat.',
  'admin.audit': 'Granskningslogg', 'admin.filter': 'Filtrera', 'admin.since': 'Sedan', 'admin.apply': 'Visa',
  'admin.auditCount': '{0} av {1} rader', 'admin.time': 'Tid', 'admin.who': 'Vem', 'admin.action': 'Åtgärd', 'admin.what': 'Vad',
  'admin.status': 'Svar', 'admin.rows': 'Rader',
};

const en = {
  'skip': 'Skip to content',
  'nav.label': 'Main menu',
  'nav.search': 'Search', 'nav.patterns': 'Patterns', 'nav.counts': 'Counts', 'nav.runs': 'Arenas and runs', 'nav.admin': 'Audit, users, tokens',
  'signedInAs': 'Signed in as {0} ({1})', 'signOut': 'Sign out',
  'role.admin': 'admin', 'role.operator': 'operator', 'role.analyst': 'analyst', 'role.researcher': 'researcher',
  'signin.title': 'Sign in', 'signin.intro': 'Sign in with your user name and password.',
  'signin.user': 'User name', 'signin.password': 'Password', 'signin.submit': 'Sign in',
  'signin.oidc': 'Sign in with your organisation\'s account',
  'signin.wrong': 'Wrong user name or password.', 'signin.throttled': 'Too many attempts. Wait a while and try again.',
  'forbidden.title': 'Not allowed (403)',
  'forbidden.text': 'Your role may not see this page. The attempt has been written to the audit log.',
  'error.title': 'Something went wrong', 'notFound.title': 'No such page', 'notFound.text': 'Choose a page from the menu.',
  'none': 'none', 'unknown': 'unknown', 'unit.persons': 'Persons', 'unit.ads': 'Adverts',
  'search.title': 'Search adverts', 'search.label': 'Search terms', 'search.submit': 'Search',
  'search.help': 'Case and accents do not matter: goteborg finds Göteborg. Fields: city:"Lund", +arena:x, -word.',
  'search.facets': 'Filters', 'search.persons': '{0} persons', 'search.adverts': '{0} adverts', 'search.took': '({0} ms)',
  'search.tooBroad': 'Too many matches to group by person: adverts are shown one by one. Narrow the search.',
  'search.none': 'No matches.', 'search.person': 'Person {0}', 'search.advertCount': '{0} matching adverts', 'search.network': 'network {0}',
  'search.pages': 'Pages', 'search.prev': '← Previous', 'search.next': 'Next →',
  'facet.arena': 'Arena', 'facet.region': 'County (län)', 'facet.city': 'City', 'facet.week': 'Week', 'facet.gender': 'Gender',
  'facet.possible_minor': 'Signs of a minor', 'facet.possible_minor.true': 'yes', 'facet.possible_minor.false': 'no',
  'facet.contact_countries': 'Country codes',
  'advert.id': 'Id', 'advert.title': 'Title', 'advert.arena': 'Arena', 'advert.url': 'Address', 'advert.age': 'Age',
  'advert.city': 'City', 'advert.region': 'County (län)', 'advert.gender': 'Gender', 'advert.posted': 'Posted', 'advert.fetched': 'Fetched',
  'advert.week': 'Week', 'advert.person': 'Person', 'advert.network': 'Network', 'advert.contacts': 'Contacts (pseudonyms)',
  'advert.countries': 'Country codes', 'advert.unassigned': 'not assigned yet', 'advert.text': 'Advert text',
  'advert.minorFlag': 'The advert shows signs that the person may be a minor: an indicator to review, not a finding.',
  'advert.photos': 'Photos are not kept; they are compared by fingerprints (perceptual hashes) in de-duplication.',
  'person.title': 'Person {0}', 'person.ads': 'Adverts', 'person.seen': 'First – last seen', 'person.months': 'Months active',
  'person.arenas': 'Arenas', 'person.cities': 'Cities', 'person.networks': 'Networks', 'person.contacts': 'Contacts (pseudonyms)',
  'person.timeline': 'Timeline', 'person.perMonth': 'Adverts per month', 'person.adverts': 'Adverts in time order',
  'person.more': 'Showing {0} of {1} adverts.',
  'person.reviewFlags': 'Patterns in buyers\' reviews', 'person.reviewFlagsNote': 'Indicators for review, never proof. The reviews are linked to the person by an advert link, advert id or phone number.',
  'person.reviewPattern': 'Pattern', 'person.reviewSigns': 'Signs', 'person.reviewIds': 'Reviews',
  'reviewPattern.youth': 'Signs of youth', 'reviewPattern.thirdParty': 'A third party or coercion mentioned',
  'reviewPattern.manyReviewers': 'Many buyers in a short time',
  'evidence.title': 'Evidence for the links',
  'evidence.introPerson': 'The person\'s {0} adverts are joined by {1} links:',
  'evidence.introNetwork': 'The network\'s {0} adverts are joined by {1} links:',
  'evidence.single': 'A single advert: no links.', 'evidence.none': 'No explanation available (no cluster state).',
  'evidence.failed': 'The explanation could not be read just now ({0}); try again in a while.',
  'evidence.networkOnly': 'same network', 'evidence.stock': 'Stock photos (link no one)', 'evidence.templates': 'Templates (link no one)',
  'evidence.shared': 'Contacts shared by several names',
  'rule.image': 'same photo', 'rule.contact+name': 'same contact and name', 'rule.contact+blank': 'same contact; the advert has no name and no photo',
  'rule.contact+nameless': 'same contact, no name', 'rule.text+name': 'near-identical text and the same name', 'rule.contact': 'same contact (network)',
  'network.title': 'Network {0}', 'network.persons': 'Persons', 'network.contacts': 'Shared contacts (pseudonyms)',
  'network.members': 'Persons in the network', 'network.graph': 'Links between the persons',
  'network.graphDesc': 'Graph of {0} persons and {1} links',
  'counts.title': 'Counts of persons and adverts',
  'counts.intro': 'De-duplicated counts: each person counts once. Small cells are suppressed.',
  'counts.total': 'In all {0} persons and {1} adverts (cells below {2} suppressed).',
  'counts.totalInterval': 'In all {0} persons ({3} % interval {4}–{5}) and {1} adverts (cells below {2} suppressed).',
  'counts.perArena': 'Per arena', 'counts.perMonth': 'Over time (per month)', 'counts.perMonthArena': 'Persons per month and arena',
  'counts.suppressedMark': '– marks a suppressed cell: too few persons to show, or withheld so that such a cell cannot be worked out.', 'counts.perRegion': 'Per county (län)',
  'counts.split': 'Children and adults per arena', 'counts.splitNote': 'Persons with signs of being minors are counted apart.',
  'counts.minors': 'Possible minors', 'counts.adults': 'Others',
  'counts.overlap': 'Overlap between arenas', 'counts.pairs': 'Persons on both arenas', 'counts.arenaA': 'Arena', 'counts.arenaB': 'and arena',
  'counts.mse': 'Multiple-systems estimate (MSE)', 'counts.observed': 'Observed', 'counts.estimated': 'Estimated',
  'counts.mseText': '{0} persons observed; estimated total {1} ({3} % interval {2}–{4}).',
  'counts.noEstimate': 'No estimate', 'counts.downloads': 'Downloads',
  'counts.downloadsNote': 'CSV for Excel has a BOM, semicolons and decimal commas, and opens correctly in Swedish Excel.',
  'counts.excel': 'CSV for Excel', 'counts.dlCounts': 'Counts per arena, county and month', 'counts.dlSplit': 'Children and adults',
  'counts.dlFacts': 'Facts (distributions)', 'counts.dlOverlap': 'Overlap and estimate',
  'patterns.title': 'Patterns', 'patterns.intro': 'Named indicator patterns. A match is an indication to review, not proof.',
  'patterns.name': 'Name', 'patterns.level': 'Level', 'patterns.description': 'Description', 'patterns.run': 'Run', 'patterns.runNamed': 'Run {0}',
  'patterns.result': 'Matches of {0}', 'patterns.summary': '{0} adverts examined; {1} persons, {2} networks.',
  'patterns.caveat': 'An indicator for review, not a finding.', 'patterns.download': 'Download (JSON)',
  'patterns.match': 'Match', 'patterns.evidence': 'Conditions',
  'runs.title': 'Arenas and runs', 'runs.intro': 'The last run of each arena with its schedule and next start, and every run with its errors by kind.',
  'runs.arenas': 'Arenas', 'runs.all': 'All runs', 'runs.id': 'Run', 'runs.status': 'Status', 'runs.started': 'Started',
  'runs.ended': 'Ended', 'runs.pages': 'Pages', 'runs.ads': 'Adverts', 'runs.errors': 'Errors', 'runs.none': 'No runs yet.',
  'runs.cli': '{0} runs. Crawls are started on the server with adcensus run.',
  'runs.schedule': 'Schedule (cron)', 'runs.next': 'Next run', 'runs.unscheduled': 'no schedule',
  'runs.st.running': 'running', 'runs.st.done': 'done', 'runs.st.stopped': 'stopped (limit)', 'runs.st.failed': 'failed',
  'admin.title': 'Audit log, users and tokens', 'admin.users': 'Users', 'admin.tokens': 'API tokens',
  'admin.name': 'Name', 'admin.roles': 'Roles', 'admin.state': 'State', 'admin.created': 'Created', 'admin.active': 'active',
  'admin.disabled': 'disabled', 'admin.enable': 'Enable {0}', 'admin.disable': 'Disable {0}', 'admin.password': 'Password (12 characters or more)',
  'admin.rolesHelp': 'Roles: admin, operator, analyst, researcher (several with commas between).', 'admin.noTokens': 'No tokens.',
  'admin.addUser': 'Add user', 'admin.id': 'Id', 'admin.expires': 'Expires', 'admin.expiresIn': 'Valid for (e.g. 90d)',
  'admin.revoked': 'revoked', 'admin.expired': 'expired', 'admin.revoke': 'Revoke {0}', 'admin.createToken': 'Create token',
  'admin.tokenOnce': 'The token is shown only now. Keep it safe:', 'admin.saved': 'Saved.',
  'admin.audit': 'Audit log', 'admin.filter': 'Filter', 'admin.since': 'Since', 'admin.apply': 'Show',
  'admin.auditCount': '{0} of {1} lines', 'admin.time': 'Time', 'admin.who': 'Who', 'admin.action': 'Action', 'admin.what': 'What',
  'admin.status': 'Status', 'admin.rows': 'Rows',
};

const dicts = {sv, en};

function stored() {
  try { return localStorage.getItem(STORE); } catch (e) { return null; }
}

let current = stored() === 'en' ? 'en' : 'sv';

export function lang() { return current; }

export function setLang(l) {
  current = l === 'en' ? 'en' : 'sv';
  try { localStorage.setItem(STORE, current); } catch (e) { /* private mode */ }
}

// t returns the text of key in the current language, {n} filled from
// args; the key itself when unknown.
export function t(key, ...args) {
  const s = dicts[current][key] ?? sv[key] ?? key;
  return s.replace(/\{(\d+)\}/g, (_, i) => String(args[+i] ?? ''));
}

const locale = () => (current === 'sv' ? 'sv-SE' : 'en-GB');

export function fmtNum(n) {
  return n === null || n === undefined ? '–' : new Intl.NumberFormat(locale()).format(n);
}

// fmtDate formats an RFC 3339 time as a date (withTime: and time, UTC).
export function fmtDate(s, withTime) {
  const d = new Date(s);
  if (isNaN(d)) return String(s);
  const o = {year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'UTC'};
  if (withTime) Object.assign(o, {hour: '2-digit', minute: '2-digit'});
  return new Intl.DateTimeFormat(locale(), o).format(d);
}

export {sv as _sv, en as _en};
