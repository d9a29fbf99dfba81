package app_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"adcensus/web/app"
)

func get(t *testing.T, h http.Handler, method, path string) (int, http.Header, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, rec.Result().Header, string(body)
}

func TestHandler(t *testing.T) {
	h := app.Handler()
	for _, tc := range []struct {
		method, path string
		code         int
		ctype, body  string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", `<script type="module" src="/assets/js/main.js">`},
		{"HEAD", "/", 200, "text/html; charset=utf-8", ""},
		{"GET", "/assets/js/main.js", 200, "text/javascript; charset=utf-8", "import"},
		{"GET", "/assets/app.css", 200, "text/css; charset=utf-8", ":root"},
		{"GET", "/assets/js/pages/search.js", 200, "text/javascript; charset=utf-8", "export async function render"},
		{"GET", "/assets/nothing.js", 404, "text/html; charset=utf-8", "404"},
		{"GET", "/assets/../app.go", 404, "text/html; charset=utf-8", "404"},
		{"GET", "/assets/index.html/..", 404, "text/html; charset=utf-8", "404"},
		{"GET", "/search", 404, "text/html; charset=utf-8", "404"},
		{"POST", "/", 405, "", ""},
	} {
		code, hdr, body := get(t, h, tc.method, tc.path)
		if code != tc.code {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, code, tc.code)
			continue
		}
		if tc.ctype != "" && hdr.Get("Content-Type") != tc.ctype {
			t.Errorf("%s %s: Content-Type %q, want %q", tc.method, tc.path, hdr.Get("Content-Type"), tc.ctype)
		}
		if !strings.Contains(body, tc.body) {
			t.Errorf("%s %s: body lacks %q: %.200s", tc.method, tc.path, tc.body, body)
		}
	}
}

// The page must run under the API's Content-Security-Policy (scripts and
// styles from the origin only): no inline script, style or handler, no
// innerHTML, nothing from another host.
func TestNoInlineCodeOrForeignAssets(t *testing.T) {
	inline := regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]|<style|\son[a-z]+=|style=|javascript:`)
	foreign := regexp.MustCompile(`(?:src|href)=["']?(?:https?:)?//`)
	err := filepath.WalkDir("static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		s := string(b)
		switch filepath.Ext(path) {
		case ".html":
			if m := inline.FindString(s); m != "" {
				t.Errorf("%s: inline code %q (the CSP forbids it)", path, m)
			}
			if m := foreign.FindString(s); m != "" {
				t.Errorf("%s: asset from another host %q", path, m)
			}
		case ".js":
			for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
				if strings.Contains(s, bad) {
					t.Errorf("%s uses %s: build the DOM with dom.js", path, bad)
				}
			}
			if strings.Contains(s, "http://") || strings.Contains(s, "https://") {
				if !regexp.MustCompile(`https?://www\.w3\.org/`).MatchString(s) || strings.Count(s, "://") != strings.Count(s, "www.w3.org") {
					t.Errorf("%s names another host", path)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Every text key the pages use is in both the Swedish and the English
// dictionary, and the two have the same keys.
func TestTranslations(t *testing.T) {
	src, err := os.ReadFile("static/js/i18n.js")
	if err != nil {
		t.Fatal(err)
	}
	dict := func(name string) map[string]bool {
		start := strings.Index(string(src), "const "+name+" = {")
		if start < 0 {
			t.Fatalf("i18n.js has no dictionary %s", name)
		}
		end := strings.Index(string(src)[start:], "\n};")
		keys := map[string]bool{}
		for _, m := range regexp.MustCompile(`'([a-zA-Z.+]+)':`).FindAllStringSubmatch(string(src)[start:start+end], -1) {
			keys[m[1]] = true
		}
		return keys
	}
	sv, en := dict("sv"), dict("en")
	if len(sv) < 100 {
		t.Fatalf("only %d Swedish texts", len(sv))
	}
	for k := range sv {
		if !en[k] {
			t.Errorf("%q has no English text", k)
		}
	}
	for k := range en {
		if !sv[k] {
			t.Errorf("%q has no Swedish text", k)
		}
	}
	// Keys written out in the pages: t('key'); prefixes (t('role.' + r))
	// must have at least one key.
	used := regexp.MustCompile(`\bt\('([a-zA-Z.+]+)'`)
	row := regexp.MustCompile(`\brow\('([a-zA-Z.]+)'`)
	var files []string
	fs.WalkDir(os.DirFS("static/js"), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".js") {
			files = append(files, p)
		}
		return err
	})
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("static/js", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range []*regexp.Regexp{used, row} {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				k := m[1]
				if strings.HasSuffix(k, ".") {
					if !slices.ContainsFunc(keysOf(sv), func(s string) bool { return strings.HasPrefix(s, k) }) {
						t.Errorf("%s: no text starts with %q", f, k)
					}
					continue
				}
				if !sv[k] {
					t.Errorf("%s: text %q is in no dictionary", f, k)
				}
			}
		}
	}
}

func keysOf(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
