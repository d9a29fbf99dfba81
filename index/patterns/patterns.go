// Package patterns runs named, versioned indicator patterns over the index:
// configs/patterns/*.yaml, each a query in the bleve query-string syntax
// (docs/SEARCH.md) plus conditions on adverts, persons or networks. A match
// is an indicator for an analyst to review, never proof of exploitation
// (docs/PATTERNS.md).
package patterns

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"adcensus/configs"
)

// Levels: what one match of a pattern is.
const (
	// LevelAdvert patterns test each advert; matches are grouped by person.
	LevelAdvert = "advert"
	// LevelPerson patterns test the adverts of one person together.
	LevelPerson = "person"
	// LevelNetwork patterns test the adverts of one network: persons linked
	// by a network id or by a shared contact.
	LevelNetwork = "network"
)

// Condition names, as written in YAML and in Evidence.Condition.
const (
	CondQuery                = "query"
	CondTextAny              = "text_any"
	CondForeignContact       = "foreign_contact"
	CondPossibleMinor        = "possible_minor"
	CondMinAds               = "min_ads"
	CondMinCities            = "min_cities"
	CondMinAdsPerDay         = "min_ads_per_day"
	CondMinPersonsPerContact = "min_persons_per_contact"
)

// HomeCountry is the calling code foreign_contact compares with.
const HomeCountry = "+46"

// Pattern is one configs/patterns/NAME.yaml file.
type Pattern struct {
	Name        string   `yaml:"name"`
	Version     int      `yaml:"version"`
	Description string   `yaml:"description"`
	Level       string   `yaml:"level"`
	Sources     []string `yaml:"sources"`
	// Query selects the adverts the pattern looks at (bleve query-string
	// syntax); empty means every advert.
	Query string `yaml:"query"`
	// TextAny keeps adverts whose title or body has one of the phrases as
	// whole words (case ignored).
	TextAny []string `yaml:"text_any"`
	// ForeignContact keeps adverts with a phone contact whose calling code
	// is not HomeCountry (index.Doc.ContactCountries).
	ForeignContact bool `yaml:"foreign_contact"`
	// PossibleMinor keeps adverts flagged with a sign of youth.
	PossibleMinor bool `yaml:"possible_minor"`
	// MinAds is the fewest kept adverts a person or network must have.
	MinAds int `yaml:"min_ads"`
	// MinCities with WithinDays: a person or network advertised in at least
	// MinCities cities within WithinDays days (any window).
	MinCities  int `yaml:"min_cities"`
	WithinDays int `yaml:"within_days"`
	// MinAdsPerDay: at least this many adverts posted on one day (Swedish
	// calendar day).
	MinAdsPerDay int `yaml:"min_ads_per_day"`
	// MinPersonsPerContact: one contact used by at least this many persons.
	MinPersonsPerContact int `yaml:"min_persons_per_contact"`

	// File is the file the pattern was loaded from.
	File string `yaml:"-"`
	// lines maps a field name to its line in File.
	lines map[string]int
}

// Error is a pattern file error naming the file, the line and the field.
type Error = configs.Error

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid pattern")

// ErrUnknown is returned by Find for a name no pattern has.
var ErrUnknown = errors.New("unknown pattern")

var nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// Load reads every *.yaml file of dir, sorted by name. It returns the first
// error, naming file, line and field; two files with one name are an error.
// A dir that does not exist is an error (not an empty list).
func Load(dir string) ([]*Pattern, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, &Error{File: dir, Err: err}
	}
	return LoadFS(os.DirFS(dir), ".", dir)
}

// LoadFS is Load on the *.yaml files of folder dir in fsys (an embedded
// file system, for the shipped patterns); errors name the files as
// display/NAME.yaml.
func LoadFS(fsys fs.FS, dir, display string) ([]*Pattern, error) {
	files, err := fs.Glob(fsys, path.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var out []*Pattern
	seen := map[string]string{}
	for _, name := range files {
		f := filepath.Join(display, path.Base(name))
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, &Error{File: f, Err: err}
		}
		p, err := Parse(f, data)
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[p.Name]; ok {
			return nil, p.err("name", fmt.Errorf("%w: %q already defined in %s", ErrInvalid, p.Name, prev))
		}
		seen[p.Name] = f
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Pattern) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Find returns the pattern called name.
func Find(ps []*Pattern, name string) (*Pattern, error) {
	for _, p := range ps {
		if p.Name == name {
			return p, nil
		}
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w %q: no patterns are loaded", ErrUnknown, name)
	}
	return nil, fmt.Errorf("%w %q: known are %s", ErrUnknown, name, strings.Join(names, ", "))
}

// LoadFile reads and validates one pattern file.
func LoadFile(path string) (*Pattern, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	return Parse(path, data)
}

// Parse parses and validates a pattern; file names it in errors.
func Parse(file string, data []byte) (*Pattern, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, configs.SyntaxError(file, data, err)
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, &Error{File: file, Err: fmt.Errorf("%w: not a mapping of fields", ErrInvalid)}
	}
	p := &Pattern{File: file, lines: map[string]int{}}
	m := root.Content[0]
	known := yamlFields()
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if !slices.Contains(known, k.Value) {
			return nil, &Error{File: file, Line: k.Line, Field: k.Value, Err: fmt.Errorf("%w: unknown field (known: %s)", ErrInvalid, strings.Join(known, ", "))}
		}
		p.lines[k.Value] = k.Line
		if err := m.Content[i+1].Decode(fieldPtr(p, k.Value)); err != nil {
			return nil, &Error{File: file, Line: m.Content[i+1].Line, Field: k.Value, Err: fmt.Errorf("%w: %v", ErrInvalid, err)}
		}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func yamlFields() []string {
	return []string{"name", "version", "description", "level", "sources", "query", CondTextAny, CondForeignContact,
		CondPossibleMinor, CondMinAds, CondMinCities, "within_days", CondMinAdsPerDay, CondMinPersonsPerContact}
}

func fieldPtr(p *Pattern, name string) any {
	switch name {
	case "name":
		return &p.Name
	case "version":
		return &p.Version
	case "description":
		return &p.Description
	case "level":
		return &p.Level
	case "sources":
		return &p.Sources
	case "query":
		return &p.Query
	case CondTextAny:
		return &p.TextAny
	case CondForeignContact:
		return &p.ForeignContact
	case CondPossibleMinor:
		return &p.PossibleMinor
	case CondMinAds:
		return &p.MinAds
	case CondMinCities:
		return &p.MinCities
	case "within_days":
		return &p.WithinDays
	case CondMinAdsPerDay:
		return &p.MinAdsPerDay
	case CondMinPersonsPerContact:
		return &p.MinPersonsPerContact
	}
	return new(any)
}

func (p *Pattern) err(field string, err error) *Error {
	return &Error{File: p.File, Line: p.lines[field], Field: field, Err: err}
}

// Validate checks the pattern without I/O; errors name file, line and field.
func (p *Pattern) Validate() error {
	bad := func(field, format string, args ...any) error {
		return p.err(field, fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...))
	}
	switch {
	case !nameRe.MatchString(p.Name):
		return bad("name", "%q: want lower-case letters, digits and '-'", p.Name)
	case p.Version < 1:
		return bad("version", "%d: want 1 or more", p.Version)
	case strings.TrimSpace(p.Description) == "":
		return bad("description", "missing")
	case !slices.Contains([]string{LevelAdvert, LevelPerson, LevelNetwork}, p.Level):
		return bad("level", "%q: want advert, person or network", p.Level)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{CondMinAds, p.MinAds}, {CondMinCities, p.MinCities}, {"within_days", p.WithinDays}, {CondMinAdsPerDay, p.MinAdsPerDay}, {CondMinPersonsPerContact, p.MinPersonsPerContact}} {
		if f.v < 0 {
			return bad(f.name, "%d is negative", f.v)
		}
	}
	for i, t := range p.TextAny {
		if strings.TrimSpace(t) == "" {
			return bad(CondTextAny, "phrase %d is empty", i)
		}
	}
	if p.Level == LevelAdvert {
		for _, f := range []struct {
			name string
			v    int
		}{{CondMinAds, p.MinAds}, {CondMinCities, p.MinCities}, {CondMinAdsPerDay, p.MinAdsPerDay}, {CondMinPersonsPerContact, p.MinPersonsPerContact}} {
			if f.v > 0 {
				return bad(f.name, "needs level person or network, not advert")
			}
		}
	}
	if p.MinPersonsPerContact > 0 && p.Level != LevelNetwork {
		return bad(CondMinPersonsPerContact, "needs level network")
	}
	if (p.MinCities > 0) != (p.WithinDays > 0) {
		if p.MinCities > 0 {
			return bad("within_days", "needed with min_cities")
		}
		return bad(CondMinCities, "needed with within_days")
	}
	if p.Query == "" && len(p.TextAny) == 0 && !p.ForeignContact && !p.PossibleMinor && p.MinAds == 0 &&
		p.MinCities == 0 && p.MinAdsPerDay == 0 && p.MinPersonsPerContact == 0 {
		return bad("query", "no query and no condition: the pattern would match everything")
	}
	return nil
}

// Conditions returns the names of the conditions the pattern sets.
func (p *Pattern) Conditions() []string {
	var out []string
	add := func(ok bool, name string) {
		if ok {
			out = append(out, name)
		}
	}
	add(p.Query != "", CondQuery)
	add(len(p.TextAny) > 0, CondTextAny)
	add(p.ForeignContact, CondForeignContact)
	add(p.PossibleMinor, CondPossibleMinor)
	add(p.MinAds > 0, CondMinAds)
	add(p.MinCities > 0, CondMinCities)
	add(p.MinAdsPerDay > 0, CondMinAdsPerDay)
	add(p.MinPersonsPerContact > 0, CondMinPersonsPerContact)
	return out
}
