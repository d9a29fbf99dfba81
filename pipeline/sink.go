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

func adMsgID(a *ad.Ad) string { return "ad-" + a.ID + "-" + a.FetchedAt.Format("20060102") }
