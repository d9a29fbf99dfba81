package configs_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"adcensus/configs"
)

type inner struct {
	Days  int           `yaml:"days"`
	Every time.Duration `yaml:"every"`
}

type outer struct {
	Name  string `yaml:"name"`
	Inner inner  `yaml:"inner"`
	Opt   *inner `yaml:"opt"`
}

func TestDecode(t *testing.T) {
	var o outer
	if err := configs.Decode("f.yaml", []byte("name: x\ninner:\n  days: 3\n  every: 1h\n"), &o); err != nil {
		t.Fatal(err)
	}
	if o.Name != "x" || o.Inner.Days != 3 || o.Inner.Every != time.Hour || o.Opt != nil {
		t.Fatalf("decoded %+v", o)
	}
	if err := configs.Decode("f.yaml", []byte("opt:\n  days: 2\n"), &o); err != nil || o.Opt == nil || o.Opt.Days != 2 {
		t.Fatalf("optional section: %v, %+v", err, o.Opt)
	}
	for _, c := range []struct{ in, want string }{
		{"name: x\ninner:\n  dayz: 3\n", "f.yaml:3: inner.dayz: unknown field (known: days, every)"},
		{"name: x\ninner:\n  days: many\n", "f.yaml:3: inner.days: cannot unmarshal !!str `many` into int"},
		{"name: x\ninner: 4\n", `f.yaml:2: inner: inner must be a mapping of fields (days, every), not the text "4"`},
		{"- a\n- b\n", "f.yaml:1: the file must be a mapping of fields (name, inner, opt), not a list"},
		{"opt:\n  colour: red\n", "f.yaml:2: opt.colour: unknown field (known: days, every)"},
		{"name: x\ninner:\n  days: 3\n days: 4\n", "f.yaml:4: did not find expected key"},
	} {
		var o outer
		err := configs.Decode("f.yaml", []byte(c.in), &o)
		var ce *configs.Error
		if !errors.As(err, &ce) || err.Error() != c.want {
			t.Errorf("%q: error %v, want %s", c.in, err, c.want)
		}
	}
}

// TestSyntaxErrorLine: the line is the first one no prefix of the file
// parses beyond, not the parser's (often one before).
func TestSyntaxErrorLine(t *testing.T) {
	for _, c := range []struct {
		in   string
		line int
	}{
		{"a: 1\nb:\n  - x\n c: 2\n", 4},
		{"a: 1\nb: 2\n\tc: 3\n", 3},
		{"a: [x\nb: 2\n", 1},
		{"a: [x,\n  y]\nb: c: d\n", 3},
		{"a: 1\nb: \"x\nc: 2\n", 2},
	} {
		var o map[string]any
		err := configs.Decode("f.yaml", []byte(c.in), &o)
		var ce *configs.Error
		if !errors.As(err, &ce) || ce.Line != c.line {
			t.Errorf("%q: error %v, want line %d", c.in, err, c.line)
		}
		if err != nil && strings.Contains(err.Error(), ": yaml: ") {
			t.Errorf("%q: error %q keeps the parser's prefix", c.in, err)
		}
	}
}
