package pipeline

import (
	"encoding/json"
	"fmt"
	"unicode"
	"unicode/utf8"

	"adcensus/ad"
)

// DecodeFingerprinted reads an ad.Fingerprinted message. The error names
// the message's subject and stream sequence and what is wrong: JSON that
// does not decode, or an advert id that no store accepts (ad.ValidID).
func DecodeFingerprinted(m *Msg) (*ad.Fingerprinted, error) {
	var fp ad.Fingerprinted
	if err := json.Unmarshal(m.Data, &fp); err != nil {
		return nil, fmt.Errorf("%s at stream seq %d: decode: %w", m.Subject, m.Seq, err)
	}
	if err := CheckID(fp.Ad.ID); err != nil {
		return nil, fmt.Errorf("%s at stream seq %d: %w", m.Subject, m.Seq, err)
	}
	return &fp, nil
}

// CheckID returns nil for an advert id every store accepts (ad.ValidID),
// else an error saying why it is refused: "advert id invalid: empty".
func CheckID(id string) error {
	if ad.ValidID(id) {
		return nil
	}
	why := "refused"
	switch {
	case id == "":
		why = "empty"
	case len(id) > ad.MaxIDLen:
		why = fmt.Sprintf("too long (%d bytes, at most %d)", len(id), ad.MaxIDLen)
	case !utf8.ValidString(id):
		why = "not valid UTF-8"
	default:
		for i, r := range id {
			if unicode.IsControl(r) {
				why = fmt.Sprintf("control character %U at byte %d", r, i)
				break
			}
		}
	}
	return fmt.Errorf("advert id invalid: %s", why)
}
