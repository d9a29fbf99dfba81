package bolt

import (
	"encoding/binary"

	bbolt "go.etcd.io/bbolt"
)

// imageIndex is the in-memory copy of the multi-index image buckets (the
// bImg bucket): a probe is a map lookup instead of a B+tree seek, which is
// what makes an image lookup cost microseconds instead of milliseconds.
// bbolt stays the durable copy; Open loads it, AddBatch extends it after
// each committed transaction. Only the single writer touches it.
type imageIndex struct {
	ids     []string          // interned advert ids
	pos     map[string]uint32 // advert id → index in ids
	buckets map[uint32][]uint32
}

func newImageIndex() *imageIndex {
	return &imageIndex{pos: map[string]uint32{}, buckets: map[uint32][]uint32{}}
}

func bucketKey(kind byte, b int, v uint16) uint32 {
	return uint32(kind)<<24 | uint32(b)<<16 | uint32(v)
}

func (x *imageIndex) add(key uint32, id string) {
	i, ok := x.pos[id]
	if !ok {
		i = uint32(len(x.ids))
		x.ids = append(x.ids, id)
		x.pos[id] = i
	}
	x.buckets[key] = append(x.buckets[key], i)
}

// load fills the index from the bImg bucket (keys: kind, band, value, id).
func (x *imageIndex) load(tx *bbolt.Tx) error {
	return tx.Bucket(bImg).ForEach(func(k, _ []byte) error {
		if len(k) < 4 {
			return nil
		}
		x.add(bucketKey(k[0], int(k[1]), binary.BigEndian.Uint16(k[2:4])), string(k[4:]))
		return nil
	})
}

// each calls fn for every advert id in a bucket.
func (x *imageIndex) each(key uint32, fn func(id string)) {
	for _, i := range x.buckets[key] {
		fn(x.ids[i])
	}
}
