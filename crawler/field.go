package crawler

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"github.com/tidwall/gjson"
	"gopkg.in/yaml.v3"
)

// A field of an arena config is written either as one map
//
//	phones: {selector: .telefon, regex: '(\d[\d -]+)'}
//
// or as a list of ordered alternatives, tried in order until one yields a
// non-empty value (an element that lacks `attr`, a regex that does not
// match or a transform that cannot read the value all count as empty):
//
//	phones:
//	  - {selector: '.kontakt .telefon', all: true}
//	  - {selector: 'button.visa-nummer', attr: data-phone}
//
// This file reads both forms, compiles the alternatives and evaluates them
// on a page (an HTML document or a JSON document).

// UnmarshalYAML reads a field map or a list of field maps (alternatives).
func (f *Field) UnmarshalYAML(n *yaml.Node) error {
	type plain Field // without this method
	switch n.Kind {
	case yaml.MappingNode:
		var p plain
		if err := n.Decode(&p); err != nil {
			return err
		}
		*f = Field(p)
		return nil
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return nodeError(n, "empty list of alternatives: give at least one {selector: …}")
		}
		alts := make([]Field, len(n.Content))
		for i, e := range n.Content {
			if e.Kind != yaml.MappingNode {
				return nodeError(e, "alternative %d is not a map like {selector: …, attr: …}", i)
			}
			var p plain
			if err := e.Decode(&p); err != nil {
				return err
			}
			alts[i] = Field(p)
		}
		*f = Field{Alternatives: alts}
		return nil
	}
	return nodeError(n, "a field is a map like {selector: h1} or a list of such maps (alternatives tried in order), not %q", n.Value)
}

// alts returns the field's alternatives in order: one for the map form.
func (f *Field) alts() []Field {
	if len(f.Alternatives) > 0 {
		return f.Alternatives
	}
	return []Field{*f}
}

// Configured says whether the field has a selector or a path (an empty
// images field is not extracted).
func (f *Field) Configured() bool {
	for _, a := range f.alts() {
		if a.Selector != "" || a.Path != "" {
			return true
		}
	}
	return false
}

// String describes the field as `arena check` shows it: each alternative's
// selector (or json:path), @attr, ~/regex/, → transforms, separated by " | ".
func (f Field) String() string {
	var parts []string
	for _, a := range f.alts() {
		s := a.Selector
		if a.Path != "" {
			if s != "" {
				s += " "
			}
			s += "json:" + a.Path
		}
		if a.Attr != "" {
			s += " @" + a.Attr
		}
		if a.Regex != "" {
			s += " ~/" + a.Regex + "/"
		}
		if len(a.Transform) > 0 {
			s += " → " + strings.Join(a.Transform, ", ")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " | ")
}

// compile compiles every alternative for a page of the given format
// ("html" or "json"); a failing alternative's error names its index.
func (f *Field) compile(format string) *fieldError {
	if f.Alternatives == nil {
		return f.compileOne(format)
	}
	for i := range f.Alternatives {
		if err := f.Alternatives[i].compileOne(format); err != nil {
			err.sub = fmt.Sprintf("[%d]%s", i, err.sub)
			return err
		}
	}
	return nil
}

// compileOne compiles one alternative. On an HTML page a field needs a
// selector and may add a path (the selected element's text is then read
// as JSON: `script#__NEXT_DATA__`); on a JSON page it needs a path and
// takes no selector or attr.
func (f *Field) compileOne(format string) *fieldError {
	switch {
	case format == "json" && f.Selector != "":
		return &fieldError{".selector", errors.New("a JSON page's fields read a path (gjson syntax), not a CSS selector")}
	case format == "json" && f.Attr != "":
		return &fieldError{".attr", errors.New("a JSON page's fields have no attributes: put the key in path")}
	case format == "json" && f.Path == "":
		return &fieldError{"", errors.New("path is required (gjson syntax, like data.title)")}
	case format != "json" && f.Selector == "":
		return &fieldError{"", errors.New("selector is required")}
	case f.Attr != "" && f.Path != "":
		return &fieldError{".path", errors.New("path reads the element's text as JSON: it cannot be used with attr")}
	}
	if f.Selector != "" {
		sel, err := cascadia.Compile(f.Selector)
		if err != nil {
			return &fieldError{"", fmt.Errorf("bad CSS selector %q: %v", f.Selector, err)}
		}
		f.sel = sel
	}
	if f.Path != "" && !validPath(f.Path) {
		return &fieldError{".path", fmt.Errorf("bad gjson path %q", f.Path)}
	}
	var err error
	if f.re, err = compileRe(f.Regex); err != nil {
		return &fieldError{".regex", err}
	}
	f.transforms = nil
	for i, name := range f.Transform {
		fn, ok := transformByName(strings.TrimSpace(name))
		if !ok {
			return &fieldError{fmt.Sprintf(".transform[%d]", i), fmt.Errorf("unknown transform %q (known: %s)", name, strings.Join(Transforms, ", "))}
		}
		f.transforms = append(f.transforms, fn)
	}
	return nil
}

// source is a parsed page fields are read from.
type source interface {
	// raw returns the raw values one alternative selects, in page order,
	// stopping after the first non-empty one unless all is set: text or
	// attribute of HTML elements, or the values at a JSON path.
	raw(f *Field, each func(v string) (more bool))
}

// htmlSource is an HTML page.
type htmlSource struct{ doc *goquery.Document }

func (s htmlSource) raw(f *Field, each func(string) bool) {
	s.doc.FindMatcher(f.sel).EachWithBreak(func(_ int, sel *goquery.Selection) bool {
		if f.Path != "" {
			more := true
			jsonValues(gjson.Get(sel.Text(), f.Path), func(v string) bool {
				more = each(v)
				return more
			})
			return more
		}
		var v string
		if f.Attr != "" {
			v, _ = sel.Attr(f.Attr) // missing: empty, the next element or alternative is tried
		} else {
			v = sel.Text()
		}
		return each(v)
	})
}

// jsonSource is a JSON page.
type jsonSource struct{ doc gjson.Result }

func (s jsonSource) raw(f *Field, each func(string) bool) {
	jsonValues(s.doc.Get(f.Path), each)
}

// jsonValues calls each with the scalar values of r: r itself, or the
// elements of an array (nested arrays flattened); objects and nulls are
// skipped.
func jsonValues(r gjson.Result, each func(string) bool) bool {
	switch {
	case !r.Exists() || r.Type == gjson.Null:
		return true
	case r.IsArray():
		more := true
		r.ForEach(func(_, v gjson.Result) bool {
			more = jsonValues(v, each)
			return more
		})
		return more
	case r.IsObject():
		return true
	}
	return each(r.String())
}

// values returns the values of the first alternative that yields any, and
// its index (-1 when none did): whitespace folded, regex and transforms
// applied, empty values dropped. errs are the values a transform could not
// read, reported only when no alternative yielded a value.
func (f *Field) values(src source, now time.Time) (out []string, errs []error, alt int) {
	for i, a := range f.alts() {
		vals, e := a.valuesOne(src, now)
		if len(vals) > 0 {
			return vals, nil, i
		}
		errs = append(errs, e...)
	}
	return nil, errs, -1
}

func (f *Field) valuesOne(src source, now time.Time) (out []string, errs []error) {
	src.raw(f, func(v string) bool {
		v = foldSpace(v)
		if f.re != nil {
			m := f.re.FindStringSubmatch(v)
			switch {
			case m == nil:
				v = ""
			case len(m) > 1:
				v = strings.TrimSpace(m[1])
			default:
				v = m[0]
			}
		}
		for _, tf := range f.transforms {
			if v == "" {
				break
			}
			var err error
			if v, err = tf(v, now); err != nil {
				errs = append(errs, err)
				v = ""
			}
		}
		if v != "" {
			out = append(out, v)
		}
		return f.All || len(out) == 0
	})
	return out, errs
}

// validPath reports whether p is a usable gjson path: gjson has no
// compile step, so this rejects what it would silently read as nothing
// (empty segments, unbalanced brackets or parentheses).
func validPath(p string) bool {
	if strings.TrimSpace(p) == "" || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") && !strings.HasSuffix(p, `\.`) {
		return false
	}
	depth := 0
	for _, r := range p {
		switch r {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		}
		if depth < 0 {
			return false
		}
	}
	return depth == 0
}
