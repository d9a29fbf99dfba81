package textsig

import (
	"math/rand/v2"
	"testing"
)

func TestNearAndEncoding(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	var a MinHash
	for i := range a {
		a[i] = uint16(r.Uint32())
	}
	b, c := a, a
	for i := range 20 { // 20 changes in bands 0–2: bands 3–15 shared
		b[i] ^= 1
	}
	for band := range Bands { // one change per band: Jaccard 0.875, no key shared
		c[band*Rows] ^= 1
	}
	if j, ok := Near(&a, &b, DefaultJaccard); !ok || j != float64(Size-20)/Size {
		t.Fatalf("Near(a,b)=%v,%v", j, ok)
	}
	if j, ok := Near(&b, &a, DefaultJaccard); !ok || j != float64(Size-20)/Size {
		t.Fatalf("Near(b,a)=%v,%v", j, ok)
	}
	if _, ok := Near(&a, &c, DefaultJaccard); ok || a.Jaccard(&c) != 0.875 {
		t.Fatalf("no band shared: Near must be false (jaccard %.3f)", a.Jaccard(&c))
	}
	back, err := Parse(a.String())
	if err != nil || back != a {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := Parse("mh128x16:AAAA"); err == nil {
		t.Fatal("short signature parsed")
	}
}
