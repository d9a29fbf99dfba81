package pipeline

// Stream, subjects and durable consumer names, in one place. Publishers use
// full subjects; only subscribers use wildcards.
const (
	// Stream is the one JetStream stream holding every stage's output: the
	// durable log every store is rebuilt from.
	Stream = "ADCENSUS"
	// StreamSubjects are the subjects the stream captures.
	StreamSubjects = "adcensus.>"

	// SubjectAdsPrefix + arena name is where the crawler publishes adverts.
	SubjectAdsPrefix = "adcensus.ads."
	// SubjectAdsAll matches the adverts of every arena.
	SubjectAdsAll = "adcensus.ads.>"
	// SubjectFingerprints carries ad.Fingerprinted records.
	SubjectFingerprints = "adcensus.fingerprints"
	// SubjectAssignments carries ad.Assignments records.
	SubjectAssignments = "adcensus.assignments"
	// SubjectErrors carries records of input that could not be processed.
	SubjectErrors = "adcensus.errors"

	// DurableFingerprint, DurableCluster and DurableIndex are the stages'
	// durable pull consumers.
	DurableFingerprint = "fingerprint"
	DurableCluster     = "cluster"
	DurableIndex       = "index"

	// HeaderCauseSeq, on an assignments message, is the stream sequence of
	// the fingerprints message that caused it. A cluster stage rebuilding
	// its state from the stream publishes nothing for causes at or below the
	// last one already in the stream.
	HeaderCauseSeq = "Adcensus-Cause-Seq"
	// HeaderAd, on a fingerprints message, is the id of its advert.
	HeaderAd = "Adcensus-Ad"
)

// AdsSubject is the subject an arena's adverts are published on.
func AdsSubject(arena string) string { return SubjectAdsPrefix + arena }
