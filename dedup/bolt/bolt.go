// Package bolt is the cluster stage of adcensus de-duplication, with its
// state in a bbolt file: it groups fingerprinted adverts into persons and
// networks by the rules in rule.go (docs/DEDUP.md), keeps the evidence of
// every link, and answers which person and network an advert belongs to.
//
// The state is a projection of the fingerprint stream: delete the file and
// replay the stream, in any order, to get the same assignments back.
// A Cluster has one writer; bbolt serialises concurrent AddBatch calls.
package bolt

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"adcensus/ad"

	bbolt "go.etcd.io/bbolt"
)

// Errors returned by Cluster methods.
var (
	ErrNotFound  = errors.New("advert not found")
	ErrInvalidID = errors.New("invalid advert id")
)

// MaxIDLen is the longest advert id the cluster stores.
const MaxIDLen = 1024

// Buckets of the state file. Keys joining several ids use a 0 byte, which
// valid advert ids never contain.
var (
	bAds     = []byte("ads")     // ad id → Profile (JSON)
	bImg     = []byte("img")     // kind, band, value(2), ad id → ""
	bContact = []byte("contact") // contact, 0, ad id → ""
	bAdComp  = []byte("adcomp")  // scope, ad id → component key
	bComp    = []byte("comp")    // scope, component key → compRec (JSON)
	bMember  = []byte("member")  // scope, component key, 0, ad id → ""
	bEdge    = []byte("edge")    // ad id, 0, other ad id, 0, scope → Evidence (JSON)
	bMeta    = []byte("meta")    // counters and the index layout

	allBuckets = [][]byte{bAds, bImg, bContact, bAdComp, bComp, bMember, bEdge, bMeta}

	keyLayout = []byte("layout")
)

// Component scopes: persons and networks are each a union-find over ad ids.
const (
	scopeP byte = 'P'
	scopeN byte = 'N'
)

// image index kinds: the pHash and the mirrored pHash of each image, and
// the robust hashes of its centred regions and its shifted windows (each
// region as is and mirrored).
const (
	kindPHash   byte = 'p'
	kindMirror  byte = 'm'
	kindCentre  byte = 's'
	kindShifted byte = 'g'
)

var counterKeys = [3][]byte{[]byte("ads"), []byte("persons"), []byte("networks")}

// compRec is one component (person or network). Its key is the id of one
// member and never shown; its public id derives from Min.
type compRec struct {
	Min  string `json:"min"`
	Size int    `json:"size"`
}

// Evidence is one link between two adverts and why it was made. Only links
// that joined two components are kept, so the evidence of a person or a
// network is a spanning tree of it.
type Evidence struct {
	A      string `json:"a"`
	B      string `json:"b"`
	Scope  string `json:"scope"` // ScopePerson or ScopeNetwork
	Rule   string `json:"rule"`
	Detail string `json:"detail"`
}

// Explanation is an advert's place in the clusters with the evidence.
type Explanation struct {
	AdID      string     `json:"ad_id"`
	PersonID  string     `json:"person_id"`
	NetworkID string     `json:"network_id"`
	Person    []string   `json:"person"`   // ad ids of the person, sorted
	Network   []string   `json:"network"`  // ad ids of the network, sorted
	Evidence  []Evidence `json:"evidence"` // links within the network, sorted
	// Stock lists the images of the network's adverts that are stock
	// photos and so link no one: "ad-1 image 0: image is stock: …".
	Stock []string `json:"stock,omitempty"`
}

// PersonID is the public id of a person whose smallest ad id is minAdID.
func PersonID(minAdID string) string { return "P" + shortHash(minAdID) }

// NetworkID is the public id of a network whose smallest ad id is minAdID.
func NetworkID(minAdID string) string { return "N" + shortHash(minAdID) }

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

// Cluster is the clustering state in one bbolt file.
type Cluster struct {
	db *bbolt.DB

	mu  sync.Mutex  // serialises AddBatch (one writer) around mem
	mem *imageIndex // in-memory copy of the image buckets
}

// Open opens or creates the state file at path.
func Open(path string) (*Cluster, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open cluster state: %w", err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bMeta)
		switch v := meta.Get(keyLayout); {
		case v == nil:
			return meta.Put(keyLayout, []byte(bandLayout))
		case string(v) != bandLayout:
			return fmt.Errorf("state has image index %q, this build uses %q: delete it and replay", v, bandLayout)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open cluster state: %w", err)
	}
	mem := newImageIndex()
	if err := db.View(mem.load); err != nil {
		db.Close()
		return nil, fmt.Errorf("load image index: %w", err)
	}
	return &Cluster{db: db, mem: mem}, nil
}

// Close closes the state file.
func (c *Cluster) Close() error { return c.db.Close() }

// ValidID reports whether the cluster can store an advert id: not empty, at
// most MaxIDLen bytes, no 0 byte.
func ValidID(id string) bool {
	return id != "" && len(id) <= MaxIDLen && strings.IndexByte(id, 0) < 0
}

// AddBatch adds fingerprinted adverts in one transaction and returns, for
// each advert not seen before, the assignments it changed: Cause is its id,
// Changed the new assignment of every advert whose person or network id
// changed (itself included), sorted by ad id. An advert id already in the
// state is skipped, so redelivery never double-counts. A nil fingerprint or
// an invalid id (empty, longer than MaxIDLen, holding a 0 byte) fails the
// whole batch with ErrInvalidID before anything is written.
func (c *Cluster) AddBatch(fps []*ad.Fingerprinted) ([]ad.Assignments, error) {
	for i, fp := range fps {
		if fp == nil {
			return nil, fmt.Errorf("%w: fingerprint %d is nil", ErrInvalidID, i)
		}
		if !ValidID(fp.Ad.ID) {
			return nil, fmt.Errorf("%w: fingerprint %d", ErrInvalidID, i)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []ad.Assignments
	var w *writer
	err := c.db.Update(func(tx *bbolt.Tx) error {
		w = newWriter(tx, c.mem)
		for _, fp := range fps {
			msg, ok, err := w.add(fp)
			if err != nil {
				return fmt.Errorf("add %s: %w", fp.Ad.ID, err)
			}
			if ok {
				out = append(out, msg)
			}
		}
		return w.saveCounts()
	})
	if err != nil {
		return nil, err
	}
	for key, ids := range w.pending { // committed: now visible to later batches
		for _, id := range ids {
			c.mem.add(key, id)
		}
	}
	return out, nil
}

// Assignment returns the person and network of one advert, ok=false when
// the advert is unknown.
func (c *Cluster) Assignment(adID string) (as ad.Assignment, ok bool, err error) {
	err = c.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bAds).Get([]byte(adID)) == nil {
			return nil
		}
		ok = true
		as, err = assignment(tx, adID)
		return err
	})
	return as, ok, err
}

// allChunk is the number of adverts All reads per read transaction, so that
// a slow fn never holds a long transaction open.
const allChunk = 1000

// All calls fn with the assignment of every advert, sorted by ad id, and
// stops at the first error fn returns. fn may call other Cluster methods.
func (c *Cluster) All(fn func(ad.Assignment) error) error {
	var after []byte
	for {
		batch := make([]ad.Assignment, 0, allChunk)
		err := c.db.View(func(tx *bbolt.Tx) error {
			cur := tx.Bucket(bAds).Cursor()
			var k []byte
			if after == nil {
				k, _ = cur.First()
			} else if k, _ = cur.Seek(after); bytes.Equal(k, after) {
				k, _ = cur.Next()
			}
			for ; k != nil && len(batch) < allChunk; k, _ = cur.Next() {
				as, err := assignment(tx, string(k))
				if err != nil {
					return err
				}
				batch = append(batch, as)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, as := range batch {
			if err := fn(as); err != nil {
				return err
			}
		}
		if len(batch) < allChunk {
			return nil
		}
		after = []byte(batch[len(batch)-1].AdID)
	}
}

// Stats returns the numbers of adverts, persons and networks.
func (c *Cluster) Stats() (ads, persons, networks int, err error) {
	err = c.db.View(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bMeta)
		ads = int(getCount(meta, 0))
		persons = int(getCount(meta, 1))
		networks = int(getCount(meta, 2))
		return nil
	})
	return ads, persons, networks, err
}

// Explain returns the person and network of an advert, their members and
// the evidence linking them, or ErrNotFound.
func (c *Cluster) Explain(adID string) (*Explanation, error) {
	var ex *Explanation
	err := c.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bAds).Get([]byte(adID)) == nil {
			return fmt.Errorf("%w: %q", ErrNotFound, adID)
		}
		as, err := assignment(tx, adID)
		if err != nil {
			return err
		}
		ex = &Explanation{AdID: adID, PersonID: as.PersonID, NetworkID: as.NetworkID}
		for _, s := range []struct {
			scope byte
			dst   *[]string
		}{{scopeP, &ex.Person}, {scopeN, &ex.Network}} {
			comp, err := compOf(tx, s.scope, adID)
			if err != nil {
				return err
			}
			forMembers(tx, s.scope, comp, func(id string) { *s.dst = append(*s.dst, id) })
			slices.Sort(*s.dst)
		}
		for _, m := range ex.Network {
			var p Profile
			if err := json.Unmarshal(tx.Bucket(bAds).Get([]byte(m)), &p); err != nil {
				return fmt.Errorf("advert %q: %w", m, err)
			}
			for i, im := range p.Images {
				if im.Stock != "" {
					ex.Stock = append(ex.Stock, fmt.Sprintf("%s image %d: %s", m, i, im.Stock))
				}
			}
		}
		seen := map[string]bool{}
		edges := tx.Bucket(bEdge)
		for _, m := range ex.Network {
			prefix := append([]byte(m), 0)
			cur := edges.Cursor()
			for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
				var e Evidence
				if err := json.Unmarshal(v, &e); err != nil {
					return fmt.Errorf("edge %q: %w", k, err)
				}
				if key := e.A + "\x00" + e.B + "\x00" + e.Scope; !seen[key] {
					seen[key] = true
					ex.Evidence = append(ex.Evidence, e)
				}
			}
		}
		slices.SortFunc(ex.Evidence, func(x, y Evidence) int {
			return strings.Compare(x.A+"\x00"+x.B+"\x00"+x.Scope, y.A+"\x00"+y.B+"\x00"+y.Scope)
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ex, nil
}

// ---- reading helpers, for read and write transactions ----

func scopeKey(scope byte, id string) []byte {
	k := make([]byte, 0, 1+len(id))
	return append(append(k, scope), id...)
}

func compOf(tx *bbolt.Tx, scope byte, adID string) (string, error) {
	v := tx.Bucket(bAdComp).Get(scopeKey(scope, adID))
	if v == nil {
		return "", fmt.Errorf("corrupt state: advert %q has no %c component", adID, scope)
	}
	return string(v), nil
}

func getComp(tx *bbolt.Tx, scope byte, key string) (compRec, error) {
	var r compRec
	v := tx.Bucket(bComp).Get(scopeKey(scope, key))
	if v == nil {
		return r, fmt.Errorf("corrupt state: %c component %q missing", scope, key)
	}
	if err := json.Unmarshal(v, &r); err != nil {
		return r, fmt.Errorf("%c component %q: %w", scope, key, err)
	}
	return r, nil
}

func minOf(tx *bbolt.Tx, scope byte, adID string) (string, error) {
	comp, err := compOf(tx, scope, adID)
	if err != nil {
		return "", err
	}
	r, err := getComp(tx, scope, comp)
	return r.Min, err
}

func assignment(tx *bbolt.Tx, adID string) (ad.Assignment, error) {
	p, err := minOf(tx, scopeP, adID)
	if err != nil {
		return ad.Assignment{}, err
	}
	n, err := minOf(tx, scopeN, adID)
	if err != nil {
		return ad.Assignment{}, err
	}
	return ad.Assignment{AdID: adID, PersonID: PersonID(p), NetworkID: NetworkID(n)}, nil
}

func memberPrefix(scope byte, comp string) []byte {
	return append(scopeKey(scope, comp), 0)
}

func forMembers(tx *bbolt.Tx, scope byte, comp string, fn func(id string)) {
	prefix := memberPrefix(scope, comp)
	cur := tx.Bucket(bMember).Cursor()
	for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
		fn(string(k[len(prefix):]))
	}
}

func getCount(meta *bbolt.Bucket, i int) int64 {
	v := meta.Get(counterKeys[i])
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

// NetworkAssignments returns the current assignments of every advert in the
// network of adID (ErrNotFound for an unknown advert). The cluster stage
// republishes them when a redelivered advert finds its state already
// committed, so assignments lost between commit and publish are restored.
func (c *Cluster) NetworkAssignments(adID string) ([]ad.Assignment, error) {
	ex, err := c.Explain(adID)
	if err != nil {
		return nil, err
	}
	out := make([]ad.Assignment, 0, len(ex.Network))
	for _, id := range ex.Network {
		a, ok, err := c.Assignment(id)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, a)
		}
	}
	return out, nil
}
