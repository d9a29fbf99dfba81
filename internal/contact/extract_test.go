package contact_test

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"adcensus/ad"
	"adcensus/internal/contact"
)

// scrubbed runs Apply on a body and returns the new body and contacts.
func scrubbed(p *contact.Pseudonymiser, body string) (string, []string) {
	a := &ad.Ad{ID: "x", Body: body}
	p.Apply(a)
	return a.Body, a.Contacts
}

func TestObfuscatedEmails(t *testing.T) {
	p := contact.New(testKey)
	anna := p.Email("anna@example.com")
	annaSE := p.Email("anna@example.se")
	annaK := p.Email("anna.k_92@mail.example.co.uk")
	tests := []struct {
		body, want, text string
	}{
		{"Mejla anna@example.com tack", anna, "Mejla [email] tack"},
		{"Mejla Anna@Example.COM.", anna, "Mejla [email]."},
		{"Mejla anna (at) example dot com", anna, "Mejla [email]"},
		{"Mejla anna(at)example(dot)com!", anna, "Mejla [email]!"},
		{"anna [at] example [dot] com", anna, "[email]"},
		{"anna[at]example[punkt]se", annaSE, "[email]"},
		{"anna {AT} example {DOT} se", annaSE, "[email]"},
		{"anna <at> example <punkt> se", annaSE, "[email]"},
		{"anna snabel-a example.se", annaSE, "[email]"},
		{"anna snabela example punkt se", annaSE, "[email]"},
		{"anna (snabel-a) example (punkt) se", annaSE, "[email]"},
		{"anna @ example . com", anna, "[email]"},
		{"anna＠example．com", anna, "[email]"},
		{"anna (@) example.com", anna, "[email]"},
		{"Write to anna at example dot com today", anna, "Write to [email] today"},
		{"anna at example punkt se", annaSE, "[email]"},
		{"Mejl: anna.k_92 (at) mail.example.co.uk", annaK, "Mejl: [email]"},
		{"anna.k_92 at mail dot example dot co dot uk", annaK, "[email]"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			text, got := scrubbed(p, tt.body)
			if !reflect.DeepEqual(got, []string{tt.want}) || text != tt.text {
				t.Fatalf("got %q %q, want %q %q", text, got, tt.text, tt.want)
			}
		})
	}
}

func TestEmailLookAlikes(t *testing.T) {
	p := contact.New(testKey)
	for _, body := range []string{
		"Se bilden logo@2x.png och foto@3x.jpeg",
		"Pris 500 @ timme, 900 @ två timmar",
		"Boka (at) hotell punkt centralen",
		"Mejla mig @ hemsidan. Se bilder nedan",
		"Look at example dot com for the schedule",
		"See me at example.com in the evening",
		"I'm at the hotel. Com by any time",
		"Träffas @ 20.00 vid stationen",
		"Skriv @anna på forumet",
		"user@localhost och test@ och hej @example.com",
		"v1.2 @ release.notes",
	} {
		t.Run(body, func(t *testing.T) {
			text, got := scrubbed(p, body)
			if len(got) != 0 || text != body {
				t.Fatalf("look-alike taken: %q %q", text, got)
			}
		})
	}
}

func TestHandles(t *testing.T) {
	p := contact.New(testKey)
	h := func(svc, v string) string {
		ps, ok := p.Handle(svc, v)
		if !ok {
			t.Fatalf("Handle(%q, %q) not ok", svc, v)
		}
		return ps
	}
	snap, kik, tg, ig := h("snap", "anna_92"), h("kik", "anna.k"), h("telegram", "anna92"), h("instagram", "anna.k")
	tel := MustPhone(t, p, "0701234567")
	tests := []struct {
		body string
		want []string
		text string
	}{
		{"snap: anna_92", []string{snap}, "snap: [handle]"},
		{"Snapchat: @Anna_92.", []string{snap}, "Snapchat: [handle]."},
		{"Lägg till mig på snap anna_92 idag", []string{snap}, "Lägg till mig på snap [handle] idag"},
		{"SNAP = ANNA_92", []string{snap}, "SNAP = [handle]"},
		{"snapnamn: anna_92", []string{snap}, "snapnamn: [handle]"},
		{"my snap is anna_92", []string{snap}, "my snap is [handle]"},
		{"kik anna.k", []string{kik}, "kik [handle]"},
		{"Kik: anna.k, tack", []string{kik}, "Kik: [handle], tack"},
		{"telegram @anna92", []string{tg}, "telegram [handle]"},
		{"Telegram → anna92", []string{tg}, "Telegram → [handle]"},
		{"t.me/anna92", []string{tg}, "t.me/[handle]"},
		{"https://t.me/Anna92 för bokning", []string{tg}, "https://t.me/[handle] för bokning"},
		{"insta/IG: anna.k", []string{ig}, "insta/IG: [handle]"},
		{"IG: @anna.k", []string{ig}, "IG: [handle]"},
		{"instagram.com/anna.k", []string{ig}, "instagram.com/[handle]"},
		{"snap/kik: anna.k", []string{h("snap", "anna.k"), kik}, "snap/kik: [handle]"},
		{"kik eller snap: anna_92", []string{h("kik", "anna_92"), snap}, "kik eller snap: [handle]"},
		{"WhatsApp: +46 70 123 45 67", []string{tel}, "WhatsApp: [tel]"},
		{"wa.me/46701234567", []string{tel}, "wa.me/[tel]"},
		{"Viber 070-123 45 67", []string{tel}, "Viber [tel]"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			text, got := scrubbed(p, tt.body)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !reflect.DeepEqual(got, want) || text != tt.text {
				t.Fatalf("got %q %q, want %q %q", text, got, tt.text, want)
			}
		})
	}
	if !strings.HasPrefix(snap, "handle:snapchat:") || len(snap) != len("handle:snapchat:")+32 {
		t.Fatalf("pseudonym %q: want handle:snapchat: and 32 hex digits", snap)
	}
	if snap == h("kik", "anna_92") {
		t.Fatal("one handle on two services shares a pseudonym")
	}
}

func TestHandleLookAlikes(t *testing.T) {
	p := contact.New(testKey)
	for _, body := range []string{
		"Tack @anna92 för tipset, och hej @maria",
		"Följ @stadsguiden för nyheter",
		"A snap decision, I snap photos of snapdragons",
		"Snap: ja. Kik: nej.",
		"Signal 2x i korsningen",
		"Kik 10.30 vid kiosken",
		"mig dig sig: inget här",
		"insta: och det var allt",
		"Se instagram.com/p/ och t.me/+ för mer",
		"ig anna92",
		"Telegram-kanalen uppdateras",
		"anna.snap: inget",
	} {
		t.Run(body, func(t *testing.T) {
			text, got := scrubbed(p, body)
			if len(got) != 0 || text != body {
				t.Fatalf("look-alike taken: %q %q", text, got)
			}
		})
	}
	for _, bad := range [][2]string{{"snap", "a"}, {"snap", "anna ö"}, {"myspace", "anna92"}, {"whatsapp", "anna92"}, {"kik", "1234"}} {
		if ps, ok := p.Handle(bad[0], bad[1]); ok {
			t.Errorf("Handle(%q, %q)=%s, want not ok", bad[0], bad[1], ps)
		}
	}
}

// Numbers in ordinary text that are not phones: prices, dates, ages,
// postcodes, times, order numbers, sizes.
func TestPhoneLookAlikes(t *testing.T) {
	p := contact.New(testKey)
	for _, body := range []string{
		"Pris 1500 kr/h, 2500 kr för 2 timmar",
		"Pris 1 500 kr, 2 000 kr, 3 500 kr",
		"Datum 2026-01-05 och 05/01/2026 kl 20.00",
		"Född 1995-05-05, här sedan 2019 2020 2021",
		"Jag är 24 år, 165 cm, 55 kg",
		"Postnummer 411 06 Göteborg, 113 51 Stockholm",
		"Ordernummer 123456789 och 987654321, referens 4711-2233",
		"Order 12345678, id 1234567890",
		"Tider 10.00-22.00 och 12.30-13.30",
		"Boka 20260105 1830",
		"Storlek 36 38 40 42",
		"Öppet 10-22, 2x1500",
	} {
		t.Run(body, func(t *testing.T) {
			text, got := scrubbed(p, body)
			if len(got) != 0 || text != body {
				t.Fatalf("taken for a contact: %q %q", text, got)
			}
		})
	}
}

// Raw contacts never survive in the text, and no pseudonym holds them.
func TestNoRawContactSurvives(t *testing.T) {
	p := contact.New(testKey)
	body := "Ring 070-123 45 67, mejla anna (at) example dot com, snap: anna_92, t.me/anna92, wa.me/46701234567"
	text, got := scrubbed(p, body)
	for _, raw := range []string{"123 45 67", "example", "anna_92", "anna92", "46701234567"} {
		if strings.Contains(text, raw) {
			t.Fatalf("raw %q survived in %q", raw, text)
		}
		for _, c := range got {
			if strings.Contains(c, raw) {
				t.Fatalf("pseudonym %q holds raw %q", c, raw)
			}
		}
	}
	shape := regexp.MustCompile(`^(tel|email|handle:[a-z]+):[0-9a-f]{32}$`)
	for _, c := range got {
		if !shape.MatchString(c) {
			t.Fatalf("pseudonym %q has the wrong shape", c)
		}
	}
	if len(got) != 4 {
		t.Fatalf("contacts=%q, want tel, email and two handles", got)
	}
	// Apply is idempotent: placeholders are not contacts.
	again, got2 := scrubbed(p, text)
	if again != text || len(got2) != 0 {
		t.Fatalf("second pass: %q %q", again, got2)
	}
}
