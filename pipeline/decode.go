package pipeline

import (
	"encoding/json"
	"fmt"

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
	if err := ad.CheckID(fp.Ad.ID); err != nil {
		return nil, fmt.Errorf("%s at stream seq %d: %w", m.Subject, m.Seq, err)
	}
	return &fp, nil
}
