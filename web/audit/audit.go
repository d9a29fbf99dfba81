// Package audit is the append-only, hash-chained log of who read and
// changed what over HTTP (and with the access commands): every sign-in,
// search, person and network view, export and admin action, with the
// number of rows it returned (docs/ACCESS.md).
//
// The log is DATA/audit.log, one JSON object a line. Each line carries the
// SHA-256 of the line before it ("prev") and its own ("hash", over prev
// and the line without its hash), so an edited, inserted or deleted line
// breaks the chain at that line: Verify names it. Keep the head (the last
// hash, printed by 'adcensus audit --verify') somewhere else to detect a
// cut tail too.
//
// Contacts never enter the log: every free-text value passes through
// Redact, and the HMAC key is never given to this package.
package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// FileName is the log's file in the data directory.
const FileName = "audit.log"

// Entry is one line of the log.
type Entry struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	// Who is the user name, "token:<id> (<name>)", or "anonymous".
	Who   string   `json:"who"`
	Roles []string `json:"roles,omitempty"`
	// Action is what was done: the API operation (search, person,
	// exportCounts, signIn, createToken …) or the command (user add).
	Action string `json:"action"`
	// What are the parameters that say what was asked, redacted.
	What map[string]string `json:"what,omitempty"`
	// Rows is the number of rows (hits, adverts, persons, table rows)
	// returned; -1 when not applicable.
	Rows   int    `json:"rows"`
	Status int    `json:"status,omitempty"`
	Remote string `json:"remote,omitempty"`
	Prev   string `json:"prev"`
	Hash   string `json:"hash,omitempty"`
}

// Log appends to the audit log of a data directory. It is safe for
// concurrent use, and several processes may append to one file (each
// write holds an exclusive file lock while it reads the last line and
// writes the next). Concurrent appends are committed together: one write
// and one fsync for all the lines waiting (group commit).
type Log struct {
	path string

	mu      sync.Mutex
	queue   []*pending
	writing bool
}

type pending struct {
	e    Entry
	done chan error
}

// Open returns the log of dataDir (created on the first append).
func Open(dataDir string) *Log { return &Log{path: filepath.Join(dataDir, FileName)} }

// Path is the log's file.
func (l *Log) Path() string { return l.path }

// Append adds e (Seq, Prev and Hash are set here; Time if zero) and
// returns once its line is synced to disk: an action is not answered
// unless its line is written.
func (l *Log) Append(e Entry) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	p := &pending{e: e, done: make(chan error, 1)}
	l.mu.Lock()
	l.queue = append(l.queue, p)
	if l.writing {
		l.mu.Unlock()
		return <-p.done
	}
	// This caller writes for everyone queued until the queue is empty.
	l.writing = true
	for len(l.queue) > 0 {
		batch := l.queue
		l.queue = nil
		l.mu.Unlock()
		err := l.write(batch)
		for _, b := range batch {
			b.done <- err
		}
		l.mu.Lock()
	}
	l.writing = false
	l.mu.Unlock()
	return <-p.done
}

// write appends the batch's lines with one write and one fsync.
func (l *Log) write(batch []*pending) error {
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("audit: lock %s: %w", l.path, err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	last, err := lastLine(f)
	if err != nil {
		return fmt.Errorf("audit: %s: %w", l.path, err)
	}
	var prevHash string
	var seq uint64
	if last != nil {
		var prev Entry
		if err := json.Unmarshal(last, &prev); err != nil {
			return fmt.Errorf("audit: %s: last line: %w (run adcensus audit --verify)", l.path, err)
		}
		prevHash, seq = prev.Hash, prev.Seq
	}
	var buf bytes.Buffer
	for _, p := range batch {
		e := p.e
		seq++
		e.Seq, e.Prev, e.Time = seq, prevHash, e.Time.UTC()
		line, hash, err := seal(e)
		if err != nil {
			return err
		}
		buf.Write(line)
		prevHash = hash
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("audit: write %s: %w", l.path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("audit: sync %s: %w", l.path, err)
	}
	return nil
}

// seal returns the line of e with its hash, and the hash.
func seal(e Entry) ([]byte, string, error) {
	e.Hash = ""
	body, err := json.Marshal(e)
	if err != nil {
		return nil, "", fmt.Errorf("audit: %w", err)
	}
	h := hashOf(e.Prev, body)
	line := append(body[:len(body)-1], `,"hash":"`+h+`"}`+"\n"...)
	return line, h, nil
}

func hashOf(prev string, body []byte) string {
	s := sha256.New()
	s.Write([]byte(prev))
	s.Write([]byte{'\n'})
	s.Write(body)
	return hex.EncodeToString(s.Sum(nil))
}

// lastLine returns the last line of f without its newline, nil when f is
// empty.
func lastLine(f *os.File) ([]byte, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size == 0 {
		return nil, nil
	}
	for chunk := int64(4096); ; chunk *= 4 {
		off := max(size-chunk, 0)
		buf := make([]byte, size-off)
		if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		buf = bytes.TrimRight(buf, "\n")
		if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
			return buf[i+1:], nil
		}
		if off == 0 {
			return buf, nil
		}
	}
}

// Read calls fn for every entry at or after since, in order; lines that do
// not parse are an error naming the line.
func Read(path string, since time.Time, fn func(line int, e Entry) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("audit: %s:%d: %w", path, n, err)
		}
		if e.Time.Before(since) {
			continue
		}
		if err := fn(n, e); err != nil {
			return err
		}
	}
	return sc.Err()
}

// ErrTampered is returned by Verify when the chain is broken.
var ErrTampered = errors.New("audit log tampered with")

// Verify checks the whole chain and returns the number of entries and the
// head (the last hash). A broken chain is ErrTampered naming the first bad
// line and what is wrong with it.
func Verify(path string) (entries int, head string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var prev string
	var seq uint64
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		bad := func(format string, a ...any) error {
			return fmt.Errorf("%w: %s:%d: %s", ErrTampered, path, n, fmt.Sprintf(format, a...))
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			return n - 1, "", bad("not an entry: %v", err)
		}
		if e.Seq != seq+1 {
			return n - 1, "", bad("sequence %d follows %d (a line was removed or inserted before it)", e.Seq, seq)
		}
		if e.Prev != prev {
			return n - 1, "", bad("prev hash does not match the line before (a line before it was changed or removed)")
		}
		suffix := `,"hash":"` + e.Hash + `"}`
		body, ok := bytes.CutSuffix(line, []byte(suffix))
		if !ok || len(e.Hash) != 64 {
			return n - 1, "", bad("hash missing or not last")
		}
		body = append(bytes.Clone(body), '}')
		if hashOf(e.Prev, body) != e.Hash {
			return n - 1, "", bad("hash does not match the line (the line was changed)")
		}
		prev, seq = e.Hash, e.Seq
	}
	if err := sc.Err(); err != nil {
		return n, "", fmt.Errorf("audit: %w", err)
	}
	return n, prev, nil
}

// Patterns Redact removes: an e-mail address, and any run of 5 or more
// digits (separated or not by spaces, dots, dashes, slashes or brackets)
// that is not part of a contact pseudonym (tel:<hex> …).
var (
	emailRe  = regexp.MustCompile(`[^\s"'<>()]+@[^\s"'<>()]+\.[^\s"'<>()]+`)
	digitsRe = regexp.MustCompile(`\+?\d(?:[\s.\-/()]*\d){4,}`)
	pseudoRe = regexp.MustCompile(`(?:tel|email|handle\\?:[a-z]+)\\?:[0-9a-f]{16,}`)
)

// Redact returns s with anything that may be a raw contact (an e-mail
// address, a run of five digits or more) replaced by "[redacted]".
// Contact pseudonyms are kept.
func Redact(s string) string {
	if len(s) > 1000 {
		cut := 1000
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = s[:cut] + "…"
	}
	var keep []string
	s = pseudoRe.ReplaceAllStringFunc(s, func(m string) string {
		keep = append(keep, m)
		return "\x00" + fmt.Sprint(len(keep)-1) + "\x00"
	})
	s = emailRe.ReplaceAllString(s, "[redacted]")
	s = digitsRe.ReplaceAllString(s, "[redacted]")
	for i, k := range keep {
		s = strings.Replace(s, "\x00"+fmt.Sprint(i)+"\x00", k, 1)
	}
	return s
}
