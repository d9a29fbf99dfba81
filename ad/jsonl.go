package ad

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// MaxLineBytes is the longest JSON Lines record a Reader accepts.
const MaxLineBytes = 16 << 20

// LineError is a record that could not be read; the reader skips it and
// goes on with the next line.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Reader reads adverts from JSON Lines. Bad lines are returned as *LineError
// from Next and skipped; the next call continues with the following line.
type Reader struct {
	r        *bufio.Reader
	line     int
	problems []string
}

// NewReader returns a Reader on r.
func NewReader(r io.Reader) *Reader { return &Reader{r: bufio.NewReaderSize(r, 64<<10)} }

// Next returns the next advert, io.EOF at the end, or a *LineError for a
// line that is not a valid record (too long, not a JSON object, invalid
// UTF-8, no id, a newer version). Fields of another type are read
// leniently (Decode); Problems lists those that were dropped.
func (r *Reader) Next() (*Ad, error) {
	for {
		line, tooLong, err := r.readLine()
		if err != nil && len(line) == 0 && !tooLong {
			return nil, err
		}
		r.line++
		if tooLong {
			return nil, &LineError{Line: r.line, Err: fmt.Errorf("record longer than %d bytes", MaxLineBytes)}
		}
		r.problems = nil
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			if err != nil {
				return nil, err
			}
			continue
		}
		if !utf8.Valid(line) {
			return nil, &LineError{Line: r.line, Err: errors.New("invalid UTF-8")}
		}
		a, problems, err := Decode(line)
		if err != nil {
			return nil, &LineError{Line: r.line, Err: err}
		}
		r.problems = problems
		return a, nil
	}
}

// Problems returns the problems of the record Next returned last: fields
// that could not be read and were dropped (Decode).
func (r *Reader) Problems() []string { return r.problems }

// readLine reads one line of at most MaxLineBytes; longer lines are consumed
// and reported as tooLong.
func (r *Reader) readLine() (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, isPrefix, err := r.r.ReadLine()
		if len(buf)+len(chunk) > MaxLineBytes {
			tooLong = true
			buf = buf[:0]
		} else if !tooLong {
			buf = append(buf, chunk...)
		}
		if err != nil {
			return buf, tooLong, err
		}
		if !isPrefix {
			return buf, tooLong, nil
		}
	}
}

// Writer writes adverts as JSON Lines.
type Writer struct {
	w   *bufio.Writer
	enc *json.Encoder
}

// NewWriter returns a Writer on w. Call Flush when done.
func NewWriter(w io.Writer) *Writer {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &Writer{w: bw, enc: enc}
}

// Write writes one advert, stamping the schema version.
func (w *Writer) Write(a *Ad) error {
	c := *a
	c.V = SchemaVersion
	return w.enc.Encode(&c)
}

// Flush writes buffered records to the underlying writer.
func (w *Writer) Flush() error { return w.w.Flush() }
