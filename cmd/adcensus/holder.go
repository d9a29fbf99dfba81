package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"adcensus/internal/boltfile"
)

// holderFile, in a data directory, names the process that has its stores
// open (written once they are open, removed at Close), so that another
// process refused by a file lock can say which one holds it.
const holderFile = "holder.json"

type holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Node    string    `json:"node"`
	Roles   []string  `json:"roles"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
	API     string    `json:"api,omitempty"` // where it serves reads, if it does
}

// writeHolder records this process as the holder of dataDir.
func writeHolder(dataDir string, h holder) error {
	h.PID = os.Getpid()
	h.Host, _ = os.Hostname()
	h.Command = strings.Join(os.Args, " ")
	h.Since = time.Now().UTC()
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dataDir, holderFile+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dataDir, holderFile))
}

// removeHolder removes the holder file if this process wrote it.
func removeHolder(dataDir string) {
	path := filepath.Join(dataDir, holderFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var h holder
	if json.Unmarshal(data, &h) == nil && h.PID == os.Getpid() {
		os.Remove(path)
	}
}

// explainHeld adds to err, when it says a file of dataDir is held by
// another process, which process that is (from its holder file) and what
// to do.
func explainHeld(dataDir string, err error) error {
	if err == nil || !errors.Is(err, boltfile.ErrHeld) {
		return err
	}
	data, rerr := os.ReadFile(filepath.Join(dataDir, holderFile))
	var h holder
	if rerr != nil || json.Unmarshal(data, &h) != nil {
		return err
	}
	msg := fmt.Sprintf("holder: pid %d on %s (node %s, roles %s) since %s: %s", h.PID, h.Host, h.Node,
		strings.Join(h.Roles, ","), h.Since.Format(time.RFC3339), h.Command)
	if h.API != "" {
		msg += fmt.Sprintf("; it serves the index's API on http://%s/api/: read through it while it runs (adcensus export counts|facts|overlap, search, patterns run --api http://%s)", h.API, h.API)
	} else {
		msg += "; stop it first, or run the index stage with --serve ADDR to read through its API while it writes"
	}
	return fmt.Errorf("%w; %s", err, msg)
}
