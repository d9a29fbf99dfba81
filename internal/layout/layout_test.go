package layout_test

import (
	"bufio"
	"bytes"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "adcensus"

// MaxFileLines is the longest a production .go file may be.
const MaxFileLines = 800

// pkg is one folder of production Go code and the packages it imports
// from this module.
type pkg struct {
	dir     string   // slash path from the module root: "dedup/cluster"
	imports []string // module paths without "adcensus/": "ad", "internal/contact"
	files   map[string]int
}

// top returns the first element of a slash path.
func top(p string) string {
	first, _, _ := strings.Cut(p, "/")
	return first
}

// stages are the three stages of the data flow: none imports another.
var stages = map[string]bool{"crawler": true, "dedup": true, "index": true}

// rule returns why pkg may not import imp, or "" when it may.
func rule(from, imp string) string {
	switch {
	case imp == "cmd" || strings.HasPrefix(imp, "cmd/"):
		return "nothing imports cmd: cmd/adcensus wires, nothing else"
	case from == "ad":
		return "ad is the shared record and imports nothing of ours"
	case from == "configs":
		return "configs holds data and imports nothing of ours"
	case top(from) == "internal" && !strings.HasPrefix(from, "internal/layout"):
		if imp != "ad" && top(imp) != "internal" {
			return "internal/ packages are leaves below the stages: they import only ad and internal/"
		}
	case top(from) == "pipeline":
		if stages[top(imp)] || top(imp) == "web" {
			return "pipeline carries messages between stages and imports no stage"
		}
	case stages[top(from)]:
		if stages[top(imp)] && top(imp) != top(from) {
			return "no stage imports another stage: share through ad, pipeline or internal/"
		}
		if top(imp) == "web" {
			return "stages do not import the web-facing code"
		}
	case top(from) == "web":
		if top(imp) == "crawler" || top(imp) == "dedup" || top(imp) == "pipeline" {
			return "web reads the index and the statistics; cmd wires the rest"
		}
	}
	return ""
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's folder")
		}
		dir = parent
	}
}

// packages parses the imports of every production .go file under root
// (not _test.go files, not testdata) and counts its lines.
func packages(t *testing.T, root string) map[string]*pkg {
	t.Helper()
	out := map[string]*pkg{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (name == "testdata" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, src, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		p := out[rel]
		if p == nil {
			p = &pkg{dir: rel, files: map[string]int{}}
			out[rel] = p
		}
		lines := 0
		sc := bufio.NewScanner(bytes.NewReader(src))
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			lines++
		}
		p.files[filepath.Base(path)] = lines
		for _, is := range f.Imports {
			ip, _ := strconv.Unquote(is.Path.Value)
			if rest, ok := strings.CutPrefix(ip, module+"/"); ok {
				p.imports = append(p.imports, rest)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A walk that found nothing would let every check below pass.
	for _, want := range []string{"ad", "crawler", "dedup", "dedup/cluster", "index", "pipeline", "internal/contact", "cmd/adcensus", "web/api"} {
		if out[want] == nil || len(out[want].files) == 0 {
			t.Fatalf("package %s not found: is the walk rooted at the module?", want)
		}
	}
	return out
}

// TestImportDirections checks the allowed import directions of
// docs/ARCHITECTURE.md: ad and configs at the bottom, internal/ leaves
// above them, pipeline, then the stages crawler, dedup and index (none
// importing another), web above index, cmd/adcensus on top.
func TestImportDirections(t *testing.T) {
	pkgs := packages(t, moduleRoot(t))
	for _, p := range pkgs {
		for _, imp := range p.imports {
			if why := rule(p.dir, imp); why != "" {
				t.Errorf("%s imports %s: %s", p.dir, imp, why)
			}
		}
	}
}

// TestRuleCatchesCrossings checks the rule itself, on imports it must
// refuse and on imports it must allow, so that a rule that allowed
// everything (or nothing) fails here.
func TestRuleCatchesCrossings(t *testing.T) {
	for _, c := range []struct {
		from, imp string
		refused   bool
	}{
		{"crawler", "dedup", true},
		{"dedup", "crawler/x", true},
		{"index/bleve", "dedup/cluster", true},
		{"pipeline", "dedup", true},
		{"ad", "internal/contact", true},
		{"internal/contact", "dedup", true},
		{"web/api", "pipeline", true},
		{"index", "cmd/adcensus", true},
		{"dedup", "internal/places", false},
		{"dedup/cluster", "pipeline", false},
		{"crawler", "internal/contact", false},
		{"web/api", "index", false},
		{"cmd/adcensus", "dedup/cluster", false},
	} {
		if got := rule(c.from, c.imp) != ""; got != c.refused {
			t.Errorf("rule(%s → %s) refused=%v, want %v", c.from, c.imp, got, c.refused)
		}
	}
}

// TestFileLength keeps every production file at most MaxFileLines long:
// one job per file.
func TestFileLength(t *testing.T) {
	for _, p := range packages(t, moduleRoot(t)) {
		for name, n := range p.files {
			if n > MaxFileLines {
				t.Errorf("%s/%s has %d lines, more than %d: split it by job", p.dir, name, n, MaxFileLines)
			}
		}
	}
}

// TestPackageDocs checks that every package says its one job in a
// doc comment.
func TestPackageDocs(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	for dir := range packages(t, root) {
		pkgs, err := parser.ParseDir(fset, filepath.Join(root, filepath.FromSlash(dir)), func(fi fs.FileInfo) bool {
			return !strings.HasSuffix(fi.Name(), "_test.go")
		}, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for name, p := range pkgs {
			documented := false
			for _, f := range p.Files {
				if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
					documented = true
				}
			}
			if !documented {
				t.Errorf("package %s (%s) has no doc comment saying its job", name, dir)
			}
		}
	}
}
