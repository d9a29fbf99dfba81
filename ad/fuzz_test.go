package ad_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"adcensus/ad"
)

// FuzzReader: the JSON Lines reader never panics or loops, every advert it
// returns has a valid id, every bad line is a *LineError with its line
// number, and what it returns survives a write and read back.
func FuzzReader(f *testing.F) {
	f.Add([]byte(`{"id":"a1","arena":"blomstra","title":"Sällskap","phones":["070-123 45 67"],"age":"28"}` + "\n" + `not json` + "\n" + `{"id":""}` + "\n"))
	f.Add([]byte(`{"v":99,"id":"a2"}`))
	f.Add([]byte(`{"id":"a3","images":[1,2],"posted_at":"igår","age":-4,"attrs":{"k":["x"]}}`))
	f.Add([]byte("\xef\xbb\xbf{\"id\":\"a4\"}\r\n\r\n"))
	f.Add([]byte("{\"id\":\"a5\",\"title\":\"\xff\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := ad.NewReader(bytes.NewReader(data))
		var good []*ad.Ad
		for i := 0; ; i++ {
			if i > len(data)+1 {
				t.Fatalf("reader returned more records than there are lines")
			}
			a, err := r.Next()
			if err == io.EOF {
				break
			}
			var le *ad.LineError
			if errors.As(err, &le) {
				if le.Line < 1 {
					t.Fatalf("line error without a line: %v", err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("error that is not a *LineError: %v", err)
			}
			if !ad.ValidID(a.ID) {
				t.Fatalf("advert with invalid id %q", a.ID)
			}
			good = append(good, a)
		}
		var buf bytes.Buffer
		w := ad.NewWriter(&buf)
		for _, a := range good {
			if err := w.Write(a); err != nil {
				t.Fatalf("write back %s: %v", a.ID, err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		back := ad.NewReader(&buf)
		for _, a := range good {
			b, err := back.Next()
			if err != nil {
				t.Fatalf("read back %s: %v", a.ID, err)
			}
			if b.ID != a.ID || b.Title != a.Title || b.Body != a.Body {
				t.Fatalf("round trip changed %s: %+v → %+v", a.ID, a, b)
			}
		}
	})
}
