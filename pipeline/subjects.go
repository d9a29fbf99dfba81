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
	// SubjectSightingsPrefix + arena name carries ad.Sighting records:
	// every advert every crawl run found (docs/CENSUS.md).
	SubjectSightingsPrefix = "adcensus.sightings."
	// SubjectSightingsAll matches the sightings of every arena.
	SubjectSightingsAll = "adcensus.sightings.>"
	// SubjectRunsPrefix + arena name carries one ad.RunEnd per finished
	// crawl run.
	SubjectRunsPrefix = "adcensus.runs."
	// SubjectRunsAll matches the run ends of every arena.
	SubjectRunsAll = "adcensus.runs.>"
	// DurableCensus is the census stage's durable consumer (sightings and
	// run ends) in a single-process pipeline; DurableCensusPrefix +
	// replica id is that of an index replica on a NATS cluster (the census
	// runs beside every index).
	DurableCensus       = "census"
	DurableCensusPrefix = "census-"

	// SubjectErrors carries records of input that could not be processed.
	SubjectErrors = "adcensus.errors"
	// SubjectDeadLetter carries the messages whose processing failed on
	// every delivery (headers name the consumer, original subject and
	// sequence, and the error); SubjectDeadLetterReplayed records each
	// replay ('adcensus dlq').
	SubjectDeadLetter         = "adcensus.dlq"
	SubjectDeadLetterReplayed = "adcensus.dlq-replayed"

	// DurableFingerprint, DurableCluster and DurableIndex are the stages'
	// durable pull consumers.
	DurableFingerprint = "fingerprint"
	DurableCluster     = "cluster"
	DurableIndex       = "index"
	// DurableIndexPrefix + replica id is the durable consumer of one index
	// replica on a NATS cluster: every replica sees every message.
	DurableIndexPrefix = "index-"
	// DurableStandbyPrefix + process id is the durable consumer of a
	// standby cluster process: it applies fingerprints to its own state
	// and publishes nothing, so that it can take over the writer's lease
	// with a state that is up to date.
	DurableStandbyPrefix = "cluster-standby-"

	// SubjectEpochs carries one message per cluster writer lease taken
	// (header HeaderEpoch): the epoch from which a writer publishes.
	SubjectEpochs = "adcensus.epochs"
	// HeaderEpoch, on an assignments or epochs message, is the lease epoch
	// of the cluster writer that published it (absent: a single writer
	// without a lease, epoch 0). The index stage drops assignments whose
	// epoch is below the highest it knows (fencing).
	HeaderEpoch = "Adcensus-Epoch"
	// HeaderSnapshot, on an assignments message, says it is part of the
	// full set of assignments a new writer publishes when it takes the
	// lease.
	HeaderSnapshot = "Adcensus-Snapshot"

	// LeaseBucket is the JetStream key-value bucket of leases; LeaseCluster
	// is the key of the cluster writer's lease.
	LeaseBucket  = "adcensus_leases"
	LeaseCluster = "cluster"
	// ClusterBucket is the key-value bucket of facts every process of a
	// NATS cluster must agree on (the key id of the pseudonymisation key).
	ClusterBucket = "adcensus_cluster"
	// HeartbeatBucket is the key-value bucket where every stage process
	// records its last heartbeat (key: role.process id).
	HeartbeatBucket = "adcensus_heartbeats"

	// HeaderCauseSeq, on an assignments message, is the stream sequence of
	// the fingerprints message that caused it. A cluster stage rebuilding
	// its state from the stream publishes nothing for causes at or below the
	// last one already in the stream.
	HeaderCauseSeq = "Adcensus-Cause-Seq"
	// HeaderAd, on a fingerprints message, is the id of its advert.
	HeaderAd = "Adcensus-Ad"
)

// IndexDurable is the durable consumer of index replica id; "" is the
// one index of a single-process pipeline (DurableIndex).
func IndexDurable(replica string) string {
	if replica == "" {
		return DurableIndex
	}
	return DurableIndexPrefix + replica
}

// CensusDurable is the census consumer of index replica id; "" is the
// single-process pipeline's (DurableCensus).
func CensusDurable(replica string) string {
	if replica == "" {
		return DurableCensus
	}
	return DurableCensusPrefix + replica
}

// SightingsSubject is the subject an arena's sightings are published on.
func SightingsSubject(arena string) string { return SubjectSightingsPrefix + arena }

// RunsSubject is the subject an arena's run ends are published on.
func RunsSubject(arena string) string { return SubjectRunsPrefix + arena }

// AdsSubject is the subject an arena's adverts are published on.
func AdsSubject(arena string) string { return SubjectAdsPrefix + arena }
