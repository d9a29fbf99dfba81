package api

import (
	"errors"
	"net/http"
)

// streamWriter is what the handler of a Stream route (server-sent events)
// writes to. Until its first FlushError it buffers like every other answer,
// so an error before the stream starts is answered and audited as usual;
// the first FlushError appends the audit line (the request's status as
// it stands), then sends the buffered start, and from then on writes go to
// the client as they come.
type streamWriter struct {
	*bufferedWriter
	w       http.ResponseWriter
	begin   func(status int) error // appends the audit line
	started bool
	failed  error
}

func (s *streamWriter) Write(p []byte) (int, error) {
	if s.failed != nil {
		return 0, s.failed
	}
	if !s.started {
		return s.bufferedWriter.Write(p)
	}
	return s.w.Write(p)
}

// FlushError starts the stream (first call) or sends what was written
// since the last call; it fails once the client has gone.
func (s *streamWriter) FlushError() error {
	if s.failed != nil {
		return s.failed
	}
	if !s.started {
		if err := s.begin(s.status()); err != nil {
			s.bufferedWriter.reset()
			writeError(s.bufferedWriter, http.StatusServiceUnavailable, "audit log unavailable: nothing was returned")
			s.bufferedWriter.flush(s.w)
			s.started, s.failed = true, errors.New("audit log unavailable")
			return s.failed
		}
		s.started = true
		s.bufferedWriter.flush(s.w)
	}
	if err := http.NewResponseController(s.w).Flush(); err != nil {
		s.failed = err
		return err
	}
	return nil
}

// flusher is what a Stream route's handler needs of its writer.
type flusher interface{ FlushError() error }
