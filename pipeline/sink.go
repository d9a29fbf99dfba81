package pipeline

import (
	"context"
	"encoding/json"

	"adcensus/ad"
)

// BusSink publishes crawled adverts to the stream (crawler.Sink).
type BusSink struct {
	Bus Bus
}

// Publish stores the advert on its arena's subject and returns once the
// stream has acknowledged it.
func (s *BusSink) Publish(ctx context.Context, a *ad.Ad) error {
	data, err := adMessage(a)
	if err != nil {
		return err
	}
	return s.Bus.Publish(ctx, AdsSubject(a.Arena), adMsgID(a), data, nil)
}

// PublishAsync sends the advert without waiting; done receives nil once the
// stream has acknowledged it (crawler.AsyncSink). The message id is the
// same as Publish's, so an advert republished after a crash is dropped by
// the stream's duplicate window.
func (s *BusSink) PublishAsync(ctx context.Context, a *ad.Ad, done func(error)) error {
	data, err := adMessage(a)
	if err != nil {
		return err
	}
	return s.Bus.PublishAsync(ctx, AdsSubject(a.Arena), adMsgID(a), data, nil, done)
}

func adMessage(a *ad.Ad) ([]byte, error) {
	c := *a
	c.V = ad.SchemaVersion
	return json.Marshal(&c)
}

// adMsgID names an advert message by its id and content (ad.ContentHash):
// the same content republished (a resumed run) is dropped by the stream's
// duplicate window, changed content is a new message.
func adMsgID(a *ad.Ad) string { return "ad-" + a.ID + "-" + ad.ContentHash(a) }

// PublishSightingAsync records a sighting of an advert (crawler.CensusSink);
// done receives nil once the stream has it. Its message id names the run
// and the advert, so a run resumed after a crash does not record it twice
// within the stream's duplicate window (the census stage is idempotent per
// run and advert beyond it).
func (s *BusSink) PublishSightingAsync(ctx context.Context, sg *ad.Sighting, done func(error)) error {
	data, err := json.Marshal(sg)
	if err != nil {
		return err
	}
	return s.Bus.PublishAsync(ctx, SightingsSubject(sg.Arena), "sg-"+sg.Run+"-"+sg.AdID, data, nil, done)
}

// PublishRunEnd records the end of a crawl run (crawler.CensusSink) and
// returns once the stream has it.
func (s *BusSink) PublishRunEnd(ctx context.Context, r *ad.RunEnd) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return s.Bus.Publish(ctx, RunsSubject(r.Arena), "run-"+r.Run, data, nil)
}
