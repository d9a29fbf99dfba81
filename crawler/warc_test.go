package crawler_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base32"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/crawler"
	"adcensus/internal/contact"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func readAll(t *testing.T, path string) ([]*crawler.WARCRecord, error) {
	t.Helper()
	r, err := crawler.OpenWARC(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []*crawler.WARCRecord
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

func TestWARCRoundTrip(t *testing.T) {
	dir := t.TempDir()
	w, err := crawler.NewWARCWriter(dir, "arena-run1", crawler.WARCOptions{Software: "adcensus/test"})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("<html><h1>Hej</h1></html>\r\n\r\nWARC/1.1 inside the body")
	date := time.Date(2026, 3, 3, 14, 5, 6, 789_000_000, time.UTC)
	x := &crawler.Exchange{
		RequestedURL:  "http://example.se/annons/1",
		URL:           mustURL(t, "http://example.se/annons/1?moved=1"),
		RequestHeader: http.Header{"User-Agent": {"adcensus/test"}},
		StatusCode:    200,
		Header:        http.Header{"Content-Type": {"text/html; charset=utf-8"}, "Content-Encoding": {"gzip"}, "Content-Length": {"3"}},
		Body:          body,
		Date:          date,
	}
	if err := w.WriteExchange(x); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files := w.Files()
	if got, want := len(files), 1; got != want {
		t.Fatalf("files = %v, want 1", files)
	}
	if got, want := filepath.Base(files[0]), "arena-run1-00001.warc.gz"; got != want {
		t.Fatalf("file = %s, want %s", got, want)
	}
	recs, err := readAll(t, files[0])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(recs), 3; got != want {
		t.Fatalf("%d records, want warcinfo, request, response", got)
	}
	for i, typ := range []string{"warcinfo", "request", "response"} {
		if got := recs[i].Type(); got != typ {
			t.Fatalf("record %d type %q, want %q", i, got, typ)
		}
		if recs[i].Version != "WARC/1.1" || !strings.HasPrefix(recs[i].Get("WARC-Record-ID"), "<urn:uuid:") {
			t.Fatalf("record %d: version %q id %q", i, recs[i].Version, recs[i].Get("WARC-Record-ID"))
		}
	}
	req, resp := recs[1], recs[2]
	if got, want := resp.Get("WARC-Concurrent-To"), req.Get("WARC-Record-ID"); got != want {
		t.Errorf("response concurrent-to %q, want the request's id %q", got, want)
	}
	if !strings.HasPrefix(string(req.Block), "GET /annons/1?moved=1 HTTP/1.1\r\nHost: example.se\r\n") || !strings.Contains(string(req.Block), "User-Agent: adcensus/test\r\n") {
		t.Errorf("request block %q", req.Block)
	}
	if got, want := resp.TargetURI(), "http://example.se/annons/1?moved=1"; got != want {
		t.Errorf("target %q, want %q", got, want)
	}
	if got, want := resp.Get(crawler.WARCRequestedURI), "http://example.se/annons/1"; got != want {
		t.Errorf("requested %q, want %q", got, want)
	}
	if got, want := resp.Get("Content-Type"), "application/http;msgtype=response"; got != want {
		t.Errorf("content-type %q", got)
	}
	if d, err := resp.Date(); err != nil || !d.Equal(date) {
		t.Errorf("date %v %v, want %v", d, err, date)
	}
	sum := sha1.Sum(body)
	if got, want := resp.Get("WARC-Payload-Digest"), "sha1:"+base32.StdEncoding.EncodeToString(sum[:]); got != want {
		t.Errorf("payload digest %q, want %q", got, want)
	}
	code, h, gotBody, err := resp.HTTPResponse()
	if err != nil {
		t.Fatal(err)
	}
	if code != 200 || !bytes.Equal(gotBody, body) || h.Get("Content-Type") != "text/html; charset=utf-8" || h.Get("Content-Encoding") != "" {
		t.Fatalf("HTTP response: %d %v %q", code, h, gotBody)
	}
}

func TestWARCRotatesAndContinuesNumbering(t *testing.T) {
	dir := t.TempDir()
	write := func(n int) []string {
		w, err := crawler.NewWARCWriter(dir, "r", crawler.WARCOptions{MaxSize: 1500})
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			// incompressible-ish bodies so that files fill up
			body := bytes.Repeat([]byte{byte(i), byte(i * 7), byte(i * 13)}, 200)
			if err := w.WriteExchange(&crawler.Exchange{URL: mustURL(t, "http://h/x"), StatusCode: 200, Body: body, Date: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return w.Files()
	}
	first := write(6)
	if len(first) < 2 {
		t.Fatalf("no rotation at 1500 bytes: %v", first)
	}
	second := write(1)
	want := filepath.Join(dir, "r-"+strings.Repeat("0", 4)+string(rune('0'+len(first)+1))+".warc.gz")
	if len(second) != 1 || second[0] != want {
		t.Fatalf("second writer files %v, want [%s] (numbering continues)", second, want)
	}
	responses := 0
	for _, f := range append(first, second...) {
		recs, err := readAll(t, f)
		if err != nil {
			t.Fatal(err)
		}
		if recs[0].Type() != "warcinfo" {
			t.Errorf("%s does not start with warcinfo", f)
		}
		for _, r := range recs {
			if r.Type() == "response" {
				responses++
			}
		}
	}
	if responses != 7 {
		t.Fatalf("%d responses read back, want 7", responses)
	}
}

func TestWARCReaderReportsCutFile(t *testing.T) {
	dir := t.TempDir()
	w, _ := crawler.NewWARCWriter(dir, "cut", crawler.WARCOptions{})
	for range 3 {
		w.WriteExchange(&crawler.Exchange{URL: mustURL(t, "http://h/x"), StatusCode: 200, Body: bytes.Repeat([]byte("abc"), 100), Date: time.Now()})
	}
	w.Close()
	path := w.Files()[0]
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, data[:len(data)-20], 0o600); err != nil {
		t.Fatal(err)
	}
	recs, err := readAll(t, path)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("cut file: err %v, want io.ErrUnexpectedEOF", err)
	}
	if len(recs) != 6 {
		t.Fatalf("%d records before the cut, want 6", len(recs))
	}
}

// comparable is what re-extraction must reproduce of a live advert.
type comparable struct {
	ID, Title, Body string
	Age             int
	Contacts        []string
	Attrs           map[string]string
	Images          []string // src + hashes
}

func comparableAds(ads []*ad.Ad) map[string]comparable {
	out := map[string]comparable{}
	for _, a := range ads {
		c := comparable{ID: a.ID, Title: a.Title, Body: a.Body, Age: a.Age, Contacts: a.Contacts, Attrs: a.Attrs}
		for _, fp := range a.ImageFPs {
			var hs []string
			for k, v := range fp.Hashes {
				hs = append(hs, k+"="+v)
			}
			sort.Strings(hs)
			c.Images = append(c.Images, fp.Src+" "+strings.Join(hs, ","))
		}
		out[a.ID] = c
	}
	return out
}

// TestCrawlToWARCAndReextract crawls the misbehaving test arena with the
// archive on, then rebuilds the adverts from the archive alone: the same
// ids, fields, contacts and image hashes; then with a changed config.
func TestCrawlToWARCAndReextract(t *testing.T) {
	arena := newTestArena(t)
	cfg := arena.config(t)
	warcDir := filepath.Join(t.TempDir(), "warc")
	pseudo := contact.New(bytes.Repeat([]byte{7}, 32))
	live := &memSink{}
	metrics := crawler.NewMetrics()
	c, err := crawler.New(cfg, crawler.Options{
		Store: mustStore(t, t.TempDir()), Sink: live, Pseudo: pseudo,
		RetryBase: 10 * time.Millisecond, WARCDir: warcDir, Metrics: metrics,
	})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(warcDir, run.ID+"-*.warc.gz"))
	if err != nil || len(files) != 1 {
		t.Fatalf("WARC files %v (%v), want one", files, err)
	}

	// Every request the server saw has its response archived.
	responses := 0
	for _, f := range files {
		recs, err := readAll(t, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Type() == "response" {
				responses++
			}
		}
	}
	// Redirect hops are requests of their own: the redirect loop's two
	// 302s are archived too.
	if got, want := responses, int(arena.requests.Load()); got != want {
		t.Errorf("%d responses archived, server answered %d requests", got, want)
	}

	re := &memSink{}
	st, err := crawler.Reextract(context.Background(), cfg, files, crawler.ReextractOptions{Sink: re, Pseudo: pseudo})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Ads, testAds; got != want {
		t.Fatalf("reextracted %d adverts, want %d (stats %+v)", got, want, st)
	}
	if st.Missing != 0 {
		t.Errorf("%d images missing from the archive", st.Missing)
	}
	if got, want := comparableAds(re.ads), comparableAds(live.ads); !reflect.DeepEqual(got, want) {
		for id := range want {
			if !reflect.DeepEqual(got[id], want[id]) {
				t.Errorf("advert %s:\n reextracted %+v\n live        %+v", id, got[id], want[id])
			}
		}
		t.Fatal("reextracted adverts differ from the live crawl")
	}

	// A changed config: no age field.
	changed := arena.config(t)
	delete(changed.Detail.Fields, "age")
	re2 := &memSink{}
	if _, err := crawler.Reextract(context.Background(), changed, files, crawler.ReextractOptions{Sink: re2, Pseudo: pseudo}); err != nil {
		t.Fatal(err)
	}
	if len(re2.ads) != testAds {
		t.Fatalf("changed config: %d adverts", len(re2.ads))
	}
	for _, a := range re2.ads {
		if a.Age != 0 || a.Title == "" {
			t.Fatalf("changed config not applied: %+v", a)
		}
	}

	var buf bytes.Buffer
	if _, err := metrics.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"# TYPE adcensus_crawler_pages_total counter\n",
		`adcensus_crawler_ads_total{arena="testarena"} 12` + "\n",
		`adcensus_crawler_images_total{arena="testarena"} 11` /* 12 adverts, one image a decompression bomb */ + "\n",
		`adcensus_crawler_errors_total{arena="testarena",kind="status_4xx"} 1` + "\n",
		`adcensus_crawler_retries_total{arena="testarena"} 3` + "\n",
		`adcensus_crawler_in_flight{arena="testarena"} 0` + "\n",
		`adcensus_crawler_queued{arena="testarena"} 0` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q:\n%s", want, out)
		}
	}
}
