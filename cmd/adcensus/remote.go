package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// remoteGet reads path with query q from the API of a process that serves
// an index ('adcensus serve', or 'adcensus stages --only index --serve':
// the way to read an index while its stage writes it) and copies the
// answer to w. A non-2xx answer is an error carrying the API's message.
func remoteGet(ctx context.Context, base, path string, q url.Values, w io.Writer) error {
	u, err := url.Parse(strings.TrimRight(base, "/") + path)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError{fmt.Sprintf("--api %q: give the API's base URL, e.g. http://127.0.0.1:8080", base)}
	}
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	// The API needs a token (docs/ACCESS.md); it is read from the
	// environment so that it never appears in a process list.
	if tok := os.Getenv("ADCENSUS_TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("read from %s: %w", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("read from %s: %s: %s", base, resp.Status, strings.TrimSpace(string(msg)))
	}
	_, err = io.Copy(w, resp.Body)
	return err
}

// remoteJSON reads path from the API at base, as remoteGet, and decodes
// its JSON answer into v.
func remoteJSON(ctx context.Context, base, path string, q url.Values, v any) error {
	var buf bytes.Buffer
	if err := remoteGet(ctx, base, path, q, &buf); err != nil {
		return err
	}
	if err := json.Unmarshal(buf.Bytes(), v); err != nil {
		return fmt.Errorf("read from %s: %s answered with what is not the expected JSON: %w", base, path, err)
	}
	return nil
}
