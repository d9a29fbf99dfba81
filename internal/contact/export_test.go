package contact

import "adcensus/ad"

// ReferenceApply is Apply as it was before the fast paths (reference_test.go).
func (p *Pseudonymiser) ReferenceApply(a *ad.Ad) []string { return p.refApply(a) }

// MinPhoneDigits is minPhoneDigits, for TestMinPhoneDigits.
const MinPhoneDigits = minPhoneDigits
