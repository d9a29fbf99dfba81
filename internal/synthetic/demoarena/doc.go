// Package demoarena serves two synthetic escort-advert websites on
// 127.0.0.1 for `adcensus demo` and for tests, and knows the truth behind
// them: which adverts belong to which person and which persons form a
// network. It is a fixture, not product code: the stages never import it
// outside tests; cmd/adcensus wires it for the demo.
//
// Generate builds a deterministic corpus from a seed (DefaultSeed for the
// demo): about 76 persons aged 21–45 in Swedish cities with about 240 adverts,
// reposted with edited text over six weeks of 2026 on both arenas. Some
// persons change phone number between adverts (keeping a photo), some have
// no photo (and always show their phone and name), three networks of 3–5
// persons share an agency phone, and a few unrelated persons share a first
// name. Within a person the adverts are connected by the first-cut linking
// rule (a shared photo, or a shared phone with the same name); across persons
// never. Truth lists every advert with its person and network.
//
// The arenas differ in structure, as real ones do:
//
//   - blomstra (Swedish): listing /annonser?sida=N with rel=next links,
//     adverts /annons/<digits>, phones in data-phone attributes, images in
//     src, the original photo tiles;
//   - nattlinjen (English): listing /list/page/N with numbered pagination,
//     adverts /ad/<slug>-<digits>.html, phones as mildly obfuscated text,
//     lazy-loaded images (data-src), photos re-encoded, scaled to 90 % and
//     brightened.
//
// Start serves both on ephemeral ports; ServeOn serves them on fixed
// addresses (`adcensus demo serve`). configs/arenas/<arena>.yaml describe the
// arenas to the crawler.
//
// All content is synthetic, bland and non-explicit: names are common first
// names, texts are polite generic phrases, photos are landscape, plant and
// object tiles cut from Debian wallpapers (package photoset). Swedish phone
// numbers come from the range PTS keeps for fiction (070-174 06 05 … 99) and
// British ones from Ofcom's drama range (07700 900xxx); the few Polish and
// Romanian numbers are random.
package demoarena
