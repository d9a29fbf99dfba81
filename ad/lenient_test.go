package ad_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"adcensus/ad"
)

// Records typed differently from this package keep their advert: values
// are converted where they can be and dropped, with a problem naming the
// field, where they cannot.
func TestDecodeLenient(t *testing.T) {
	day := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, in string
		want     ad.Ad
		problems []string // fields named in the problems, in order
	}{
		{"well typed", `{"id":"a","age":25,"phones":["070"],"posted_at":"2026-01-05T00:00:00Z"}`,
			ad.Ad{ID: "a", Age: 25, Phones: []string{"070"}, PostedAt: day}, nil},
		{"age as text", `{"id":"a","age":" 25 "}`, ad.Ad{ID: "a", Age: 25}, nil},
		{"age not a number", `{"id":"a","age":"old","name":"Anna"}`, ad.Ad{ID: "a", Name: "Anna"}, []string{"age"}},
		{"age fractional", `{"id":"a","age":25.5}`, ad.Ad{ID: "a"}, []string{"age"}},
		{"one phone as text", `{"id":"a","phones":"070-123 45 67","images":"a.jpg"}`,
			ad.Ad{ID: "a", Phones: []string{"070-123 45 67"}, Images: []string{"a.jpg"}}, nil},
		{"phone as a number", `{"id":"a","phones":[46701234567]}`, ad.Ad{ID: "a", Phones: []string{"46701234567"}}, nil},
		{"phones as an object", `{"id":"a","phones":{"nr":"0701234567"},"body":"Hej"}`, ad.Ad{ID: "a", Body: "Hej"}, []string{"phones"}},
		{"date forms", `{"id":"a","posted_at":"2026-01-05 00:00","fetched_at":1767571200}`,
			ad.Ad{ID: "a", PostedAt: day, FetchedAt: day}, nil},
		{"bad date", `{"id":"a","posted_at":"igår","title":"T"}`, ad.Ad{ID: "a", Title: "T"}, []string{"posted_at"}},
		{"numbers as text", `{"id":12345,"arena":"a","attrs":{"price":3500,"ok":true}}`,
			ad.Ad{ID: "12345", Arena: "a", Attrs: map[string]string{"price": "3500", "ok": "true"}}, nil},
		{"nulls", `{"id":"a","name":null,"age":null,"phones":null,"posted_at":null}`, ad.Ad{ID: "a"}, nil},
		{"bad image fps", `{"id":"a","image_fps":"x","images":["a.jpg"]}`, ad.Ad{ID: "a", Images: []string{"a.jpg"}}, []string{"image_fps"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, problems, err := ad.Decode([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("got %+v, want %+v", *got, tc.want)
			}
			var fields []string
			for _, p := range problems {
				if ad.ProblemKind(p) != ad.ProblemField {
					t.Errorf("problem %q: kind %q", p, ad.ProblemKind(p))
				}
				fields = append(fields, strings.TrimSuffix(strings.Fields(p)[1], ":"))
				for _, v := range []string{"0701234567", "igår", "old", "25.5"} {
					if strings.Contains(p, v) {
						t.Errorf("problem %q repeats the value %q", p, v)
					}
				}
			}
			if !reflect.DeepEqual(fields, tc.problems) {
				t.Errorf("problems %q, want fields %q", problems, tc.problems)
			}
		})
	}
	for _, in := range []string{`[1,2]`, `"x"`, `{"name":"no id"}`, `{"id":["a"]}`, `{"id":"a","v":99}`, `{"id":"a","v":"x"}`} {
		if a, _, err := ad.Decode([]byte(in)); err == nil {
			t.Errorf("Decode(%s) = %+v, want an error", in, a)
		}
	}
}
