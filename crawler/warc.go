package crawler

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// WARC archive (ISO 28500, WARC/1.1). Every HTTP response the crawler
// receives — pages, images, robots.txt, error statuses — is written as a
// "response" record, preceded by the "request" record that asked for it,
// so an archive can be re-extracted later with a changed config
// (Reextract) without touching the arena again.
//
// Each record is its own gzip member (the usual .warc.gz layout: tools can
// seek to a record), and files are DIR/<run-id>-NNNNN.warc.gz, rotated when
// a file reaches WARCOptions.MaxSize. A resumed run continues with the next
// free number; nothing is overwritten.
//
// The HTTP block is rebuilt from the decoded response that colly hands us:
// the body is the payload after content decoding, so Content-Encoding and
// Transfer-Encoding are dropped and Content-Length is the body's length.
// A body cut at limits.max_body is marked "WARC-Truncated: length".

// WARCVersion is the version line written and the one Reader accepts (1.0 too).
const WARCVersion = "WARC/1.1"

// DefaultWARCMaxSize is the size at which a WARC file is rotated.
const DefaultWARCMaxSize = 1 << 30

// WARC record types written by WARCWriter.
const (
	WARCInfo     = "warcinfo"
	WARCRequest  = "request"
	WARCResponse = "response"
)

// WARCRequestedURI is our extension field on a response record: the URL the
// crawler asked for, when a redirect led to another WARC-Target-URI. Re-
// extraction classifies the page by it, as the live crawl does.
const WARCRequestedURI = "WARC-Adcensus-Requested-URI"

// ErrWARCFormat is returned (wrapped) for input that is not a WARC record.
var ErrWARCFormat = errors.New("not a WARC record")

// WARCField is one named header field of a record, in file order.
type WARCField struct {
	Name, Value string
}

// WARCRecord is one WARC record: its header fields and its content block.
type WARCRecord struct {
	Version string // "WARC/1.1"
	Fields  []WARCField
	Block   []byte
}

// Get returns the value of the first field named name (case-insensitive).
func (r *WARCRecord) Get(name string) string {
	for _, f := range r.Fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Type is the WARC-Type field.
func (r *WARCRecord) Type() string { return r.Get("WARC-Type") }

// TargetURI is the WARC-Target-URI field.
func (r *WARCRecord) TargetURI() string { return r.Get("WARC-Target-URI") }

// Date parses the WARC-Date field.
func (r *WARCRecord) Date() (time.Time, error) {
	return time.Parse(time.RFC3339Nano, r.Get("WARC-Date"))
}

// HTTPResponse parses the block of a response record as an HTTP response
// and returns its status code, header and body.
func (r *WARCRecord) HTTPResponse() (int, http.Header, []byte, error) {
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(r.Block)), nil)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s: HTTP block: %w", r.TargetURI(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s: HTTP body: %w", r.TargetURI(), err)
	}
	return resp.StatusCode, resp.Header, body, nil
}

// newRecordID returns a fresh <urn:uuid:…> (version 4).
func newRecordID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("<urn:uuid:%x-%x-%x-%x-%x>", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// sha1Digest is the WARC digest form "sha1:BASE32".
func sha1Digest(b []byte) string {
	sum := sha1.Sum(b)
	return "sha1:" + base32.StdEncoding.EncodeToString(sum[:])
}

// encode writes the record in WARC form (without compression).
func (r *WARCRecord) encode(w *bytes.Buffer) {
	v := r.Version
	if v == "" {
		v = WARCVersion
	}
	w.WriteString(v + "\r\n")
	for _, f := range r.Fields {
		if strings.EqualFold(f.Name, "Content-Length") {
			continue
		}
		w.WriteString(f.Name + ": " + f.Value + "\r\n")
	}
	w.WriteString("Content-Length: " + strconv.Itoa(len(r.Block)) + "\r\n\r\n")
	w.Write(r.Block)
	w.WriteString("\r\n\r\n")
}

// WARCOptions configure a WARCWriter.
type WARCOptions struct {
	// MaxSize is the compressed size at which a new file is started
	// (default DefaultWARCMaxSize). A record is never split.
	MaxSize int64
	// Software and Info go into each file's warcinfo record.
	Software string
	Info     []WARCField
}

// WARCWriter writes records into rotated, gzip-per-record WARC files. It is
// safe for concurrent use.
type WARCWriter struct {
	dir, prefix string
	opts        WARCOptions

	mu    sync.Mutex
	f     *os.File
	num   int
	size  int64
	files []string
	buf   bytes.Buffer
	zw    *gzip.Writer
}

// NewWARCWriter prepares a writer of DIR/<prefix>-NNNNN.warc.gz, creating DIR.
// The first file is created on the first write, numbered after the files
// of the same prefix already in DIR.
func NewWARCWriter(dir, prefix string, o WARCOptions) (*WARCWriter, error) {
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultWARCMaxSize
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("warc dir: %w", err)
	}
	existing, err := filepath.Glob(filepath.Join(dir, globEscape(prefix)+"-*.warc.gz"))
	if err != nil {
		return nil, err
	}
	w := &WARCWriter{dir: dir, prefix: prefix, opts: o}
	for _, p := range existing {
		s := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), prefix+"-"), ".warc.gz")
		if n, err := strconv.Atoi(s); err == nil && n > w.num {
			w.num = n
		}
	}
	w.zw, _ = gzip.NewWriterLevel(&w.buf, gzip.DefaultCompression)
	return w, nil
}

func globEscape(s string) string {
	r := strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `\`, `\\`)
	return r.Replace(s)
}

// Write appends records, in order and in the same file. Fields WARC-Record-ID
// and WARC-Date are added when missing.
func (w *WARCWriter) Write(recs ...*WARCRecord) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var members [][]byte
	var total int64
	for _, r := range recs {
		m, err := w.member(r)
		if err != nil {
			return err
		}
		members = append(members, m)
		total += int64(len(m))
	}
	if w.f == nil || (w.size > 0 && w.size+total > w.opts.MaxSize) {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	for _, m := range members {
		n, err := w.f.Write(m)
		w.size += int64(n)
		if err != nil {
			return fmt.Errorf("write %s: %w", w.f.Name(), err)
		}
	}
	return nil
}

// member compresses one record into its own gzip member.
func (w *WARCWriter) member(r *WARCRecord) ([]byte, error) {
	if r.Get("WARC-Record-ID") == "" {
		r.Fields = append([]WARCField{{"WARC-Record-ID", newRecordID()}}, r.Fields...)
	}
	if r.Get("WARC-Date") == "" {
		r.Fields = append(r.Fields, WARCField{"WARC-Date", time.Now().UTC().Format(time.RFC3339Nano)})
	}
	var raw bytes.Buffer
	r.encode(&raw)
	w.buf.Reset()
	w.zw.Reset(&w.buf)
	if _, err := w.zw.Write(raw.Bytes()); err != nil {
		return nil, err
	}
	if err := w.zw.Close(); err != nil {
		return nil, err
	}
	return bytes.Clone(w.buf.Bytes()), nil
}

// rotate closes the current file and starts the next with a warcinfo record.
func (w *WARCWriter) rotate() error {
	if w.f != nil {
		if err := w.closeFile(); err != nil {
			return err
		}
	}
	w.num++
	name := fmt.Sprintf("%s-%05d.warc.gz", w.prefix, w.num)
	f, err := os.OpenFile(filepath.Join(w.dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("warc: %w", err)
	}
	w.f, w.size = f, 0
	w.files = append(w.files, f.Name())
	var info bytes.Buffer
	sw := w.opts.Software
	if sw == "" {
		sw = "adcensus"
	}
	info.WriteString("software: " + sw + "\r\nformat: WARC File Format 1.1\r\nconformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n")
	for _, f := range w.opts.Info {
		info.WriteString(f.Name + ": " + f.Value + "\r\n")
	}
	m, err := w.member(&WARCRecord{Fields: []WARCField{
		{"WARC-Type", WARCInfo},
		{"WARC-Filename", name},
		{"Content-Type", "application/warc-fields"},
	}, Block: info.Bytes()})
	if err != nil {
		return err
	}
	n, err := w.f.Write(m)
	w.size += int64(n)
	return err
}

func (w *WARCWriter) closeFile() error {
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	return err
}

// Sync flushes the current file to disk. The crawler calls it before a page
// is marked done, so a resumed crawl never lacks the records of a finished page.
func (w *WARCWriter) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	return w.f.Sync()
}

// Close syncs and closes the current file.
func (w *WARCWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	return w.closeFile()
}

// Exchange is one HTTP request and its response, as the crawler saw them.
type Exchange struct {
	RequestedURL  string   // what the crawler asked for
	URL           *url.URL // where the response came from (after redirects)
	Method        string
	RequestHeader http.Header
	StatusCode    int
	Header        http.Header
	Body          []byte
	Date          time.Time // when the request was sent
	Truncated     bool      // the body was cut at the size limit
}

// WriteExchange writes a request record and its response record.
func (w *WARCWriter) WriteExchange(x *Exchange) error {
	date := x.Date.UTC().Format(time.RFC3339Nano)
	target := x.URL.String()
	method := x.Method
	if method == "" {
		method = http.MethodGet
	}

	var req bytes.Buffer
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, x.URL.RequestURI(), x.URL.Host)
	writeHeader(&req, x.RequestHeader, "Host")
	req.WriteString("\r\n")
	reqID := newRecordID()

	var resp bytes.Buffer
	text := http.StatusText(x.StatusCode)
	if text == "" {
		text = "status code " + strconv.Itoa(x.StatusCode)
	}
	fmt.Fprintf(&resp, "HTTP/1.1 %d %s\r\n", x.StatusCode, text)
	writeHeader(&resp, x.Header, "Content-Length", "Content-Encoding", "Transfer-Encoding")
	fmt.Fprintf(&resp, "Content-Length: %d\r\n\r\n", len(x.Body))
	resp.Write(x.Body)

	respFields := []WARCField{
		{"WARC-Type", WARCResponse},
		{"WARC-Record-ID", newRecordID()},
		{"WARC-Date", date},
		{"WARC-Target-URI", target},
		{"WARC-Concurrent-To", reqID},
		{"Content-Type", "application/http;msgtype=response"},
		{"WARC-Payload-Digest", sha1Digest(x.Body)},
		{"WARC-Block-Digest", sha1Digest(resp.Bytes())},
	}
	if x.RequestedURL != "" && x.RequestedURL != target {
		respFields = append(respFields, WARCField{WARCRequestedURI, x.RequestedURL})
	}
	if x.Truncated {
		respFields = append(respFields, WARCField{"WARC-Truncated", "length"})
	}
	return w.Write(
		&WARCRecord{Fields: []WARCField{
			{"WARC-Type", WARCRequest},
			{"WARC-Record-ID", reqID},
			{"WARC-Date", date},
			{"WARC-Target-URI", target},
			{"Content-Type", "application/http;msgtype=request"},
			{"WARC-Block-Digest", sha1Digest(req.Bytes())},
		}, Block: req.Bytes()},
		&WARCRecord{Fields: respFields, Block: resp.Bytes()},
	)
}

// writeHeader writes h sorted by name, leaving out the names in skip.
func writeHeader(w *bytes.Buffer, h http.Header, skip ...string) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if containsFold(skip, k) {
			continue
		}
		for _, v := range h[k] {
			// Header values cannot hold line breaks in HTTP; be safe anyway.
			v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
			w.WriteString(k + ": " + v + "\r\n")
		}
	}
}

func containsFold(xs []string, s string) bool {
	for _, x := range xs {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// WARCReader reads records from a WARC file, gzip-compressed (one member
// per record, or one for all) or not.
type WARCReader struct {
	br     *bufio.Reader
	closer io.Closer
	n      int
}

// NewWARCReader reads records from r, detecting gzip.
func NewWARCReader(r io.Reader) (*WARCReader, error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("warc: %w", err)
		}
		return &WARCReader{br: bufio.NewReader(zr), closer: zr}, nil
	}
	return &WARCReader{br: br}, nil
}

// OpenWARC opens a WARC file; Close the reader when done.
func OpenWARC(path string) (*WARCReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewWARCReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.closer = f
	return r, nil
}

// Close closes the underlying file, when opened by OpenWARC.
func (r *WARCReader) Close() error {
	if c, ok := r.closer.(*os.File); ok {
		return c.Close()
	}
	return nil
}

// maxWARCHeader bounds one header line and the number of fields.
const (
	maxWARCLine   = 64 << 10
	maxWARCFields = 1000
	maxWARCBlock  = 2 << 30
)

// Next returns the next record, or io.EOF after the last. A file cut in the
// middle of a record (a crash while writing) gives io.ErrUnexpectedEOF.
func (r *WARCReader) Next() (*WARCRecord, error) {
	line, err := r.line()
	for err == nil && line == "" { // tolerate stray blank lines between records
		line, err = r.line()
	}
	if err != nil {
		return nil, err
	}
	r.n++
	if !strings.HasPrefix(line, "WARC/1.") {
		return nil, fmt.Errorf("record %d: %w: version line %.40q", r.n, ErrWARCFormat, line)
	}
	rec := &WARCRecord{Version: line}
	length := int64(-1)
	for {
		l, err := r.line()
		if err != nil {
			return nil, unexpected(err)
		}
		if l == "" {
			break
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fmt.Errorf("record %d: %w: header line %.60q", r.n, ErrWARCFormat, l)
		}
		f := WARCField{strings.TrimSpace(name), strings.TrimSpace(value)}
		if strings.EqualFold(f.Name, "Content-Length") {
			length, err = strconv.ParseInt(f.Value, 10, 64)
			if err != nil || length < 0 || length > maxWARCBlock {
				return nil, fmt.Errorf("record %d: %w: Content-Length %q", r.n, ErrWARCFormat, f.Value)
			}
		}
		if len(rec.Fields) >= maxWARCFields {
			return nil, fmt.Errorf("record %d: %w: too many fields", r.n, ErrWARCFormat)
		}
		rec.Fields = append(rec.Fields, f)
	}
	if length < 0 {
		return nil, fmt.Errorf("record %d: %w: no Content-Length", r.n, ErrWARCFormat)
	}
	rec.Block = make([]byte, length)
	if _, err := io.ReadFull(r.br, rec.Block); err != nil {
		return nil, unexpected(err)
	}
	var tail [4]byte
	if _, err := io.ReadFull(r.br, tail[:]); err != nil {
		return nil, unexpected(err)
	}
	if string(tail[:]) != "\r\n\r\n" {
		return nil, fmt.Errorf("record %d: %w: block not followed by CRLF CRLF", r.n, ErrWARCFormat)
	}
	return rec, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// line reads one CRLF- (or LF-) terminated line without its terminator.
func (r *WARCReader) line() (string, error) {
	var b []byte
	for {
		chunk, isPrefix, err := r.br.ReadLine()
		if err != nil {
			if err == io.EOF && len(b) > 0 {
				return "", io.ErrUnexpectedEOF
			}
			return "", err
		}
		b = append(b, chunk...)
		if len(b) > maxWARCLine {
			return "", fmt.Errorf("%w: header line longer than %d bytes", ErrWARCFormat, maxWARCLine)
		}
		if !isPrefix {
			return string(b), nil
		}
	}
}
