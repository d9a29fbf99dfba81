package ad_test

import (
	"encoding/json"
	"testing"

	"adcensus/ad"
)

// A fingerprinted record written before text_minhash existed (with the
// SimHash text_sig nothing reads) still loads; the new field round-trips.
func TestFingerprintedJSONCompatible(t *testing.T) {
	old := `{"ad":{"id":"x1","title":"Hej"},"contacts":["tel:00112233445566778899aabbccddeeff"],"name":"anna","text_sig":"simhash:00000000000000ff"}`
	var fp ad.Fingerprinted
	if err := json.Unmarshal([]byte(old), &fp); err != nil {
		t.Fatalf("old record: %v", err)
	}
	if fp.Ad.ID != "x1" || fp.Name != "anna" || len(fp.Contacts) != 1 || fp.TextMinHash != "" {
		t.Fatalf("old record decoded as %+v", fp)
	}
	fp.TextMinHash = "mh128x16:AAAA"
	b, err := json.Marshal(&fp)
	if err != nil {
		t.Fatal(err)
	}
	var back ad.Fingerprinted
	if err := json.Unmarshal(b, &back); err != nil || back.TextMinHash != fp.TextMinHash {
		t.Fatalf("round trip %s: %+v, %v", b, back, err)
	}
}
