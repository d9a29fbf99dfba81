package crawler_test

import (
	"os"
	"strings"
	"testing"

	"adcensus/crawler"
)

// TestArenaConfigDocExample loads the full example config that opens
// docs/ARENA-CONFIG.md: the schema shown there must stay valid.
func TestArenaConfigDocExample(t *testing.T) {
	data, err := os.ReadFile("../docs/ARENA-CONFIG.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "```yaml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no yaml block in docs/ARENA-CONFIG.md")
	}
	if _, err := crawler.ParseArena("ARENA-CONFIG.md", []byte(block)); err != nil {
		t.Fatalf("the example config of docs/ARENA-CONFIG.md does not load: %v", err)
	}
}
