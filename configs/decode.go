package configs

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxLineSearch bounds SyntaxError's search for the failing line: config
// files are short; a longer file keeps the parser's own line.
const maxLineSearch = 5000

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// SyntaxError turns a YAML syntax error of the file's data into an Error
// with the line where the document stops being valid YAML. The parser
// (gopkg.in/yaml.v3) reports the line where the enclosing construct began,
// or a 0-based line, often one before the mistake; here the line is the
// first one from which no prefix of the file parses: prefixes are parsed
// line by line and the error is put on the line after the last prefix
// that parses.
func SyntaxError(file string, data []byte, err error) *Error {
	msg := err.Error()
	line := 0
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) <= maxLineSearch {
		lastOK := 0
		for k := 1; k <= len(lines); k++ {
			var n yaml.Node
			if yaml.Unmarshal(bytes.Join(lines[:k], nil), &n) == nil {
				lastOK = k
			}
		}
		if lastOK < len(lines) {
			line = lastOK + 1
		}
	}
	return &Error{File: file, Line: line, Err: errors.New(msg)}
}

// Decode parses data, a YAML mapping, into out (a pointer to a struct with
// yaml tags) strictly: an unknown key, a value of the wrong type, or a
// document that is not a mapping is an *Error naming the file, the line
// and the field path ("retention.advert_text"). Nested structs (not
// time.Time) are walked the same way; other values are decoded by yaml.
// An empty document leaves out as it is.
func Decode(file string, data []byte, out any) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return SyntaxError(file, data, err)
	}
	if len(root.Content) == 0 {
		return nil
	}
	return decodeNode(file, root.Content[0], "", reflect.ValueOf(out).Elem())
}

var timeType = reflect.TypeOf(time.Time{})

func decodeNode(file string, n *yaml.Node, path string, v reflect.Value) error {
	if v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Struct && v.Type().Elem() != timeType {
		// A pointer to a section (access:, access.oidc:) is checked
		// field by field like an inline one; null leaves it nil.
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return decodeNode(file, n, path, v.Elem())
	}
	if v.Kind() != reflect.Struct || v.Type() == timeType {
		if err := n.Decode(v.Addr().Interface()); err != nil {
			return &Error{File: file, Line: n.Line, Field: path, Err: errors.New(typeErrorText(err))}
		}
		return nil
	}
	fields := map[string]int{}
	var names []string
	t := v.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !t.Field(i).IsExported() {
			continue
		}
		fields[name] = i
		names = append(names, name)
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		what := "the file"
		if path != "" {
			what = path
		}
		return &Error{File: file, Line: n.Line, Field: path, Err: fmt.Errorf("%s must be a mapping of fields (%s), not %s", what, strings.Join(names, ", "), describe(n))}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		field := k.Value
		if path != "" {
			field = path + "." + k.Value
		}
		idx, ok := fields[k.Value]
		if !ok {
			return &Error{File: file, Line: k.Line, Field: field, Err: fmt.Errorf("unknown field (known: %s)", strings.Join(names, ", "))}
		}
		if err := decodeNode(file, val, field, v.Field(idx)); err != nil {
			return err
		}
	}
	return nil
}

// describe names what a YAML node is, for errors.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		s := n.Value
		if len(s) > 40 {
			s = s[:40] + "…"
		}
		return fmt.Sprintf("the text %q", s)
	case yaml.AliasNode:
		return "an alias"
	}
	return "this"
}

var typeErrLineRe = regexp.MustCompile(`line \d+: `)

// typeErrorText is yaml's unmarshal error without its "yaml: unmarshal
// errors:" header and line (the Error carries the line).
func typeErrorText(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return typeErrLineRe.ReplaceAllString(te.Errors[0], "")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}
