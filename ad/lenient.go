package ad

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ProblemField is the kind (ProblemKind) of a field that could not be
// read and was dropped, the advert kept.
const ProblemField = "field"

// Decode reads one advert record leniently: a record from a researcher's
// file or another producer may type a field differently from this
// package ("age": "25", "phones": "070-…" as one string, "images" as one
// path, a date as "2026-01-05 12:00" or Unix seconds, numbers in attrs).
// Such values are converted; a value that cannot be converted is dropped
// and named in the problems returned ("field age: not a whole number:
// dropped"; problems name the JSON type, never the value, which may hold
// a phone number),
// and the rest of the advert is kept. An error means there is no advert:
// not a JSON object, or no usable "id", or a newer schema version.
func Decode(data []byte) (*Ad, []string, error) {
	var a Ad
	if err := json.Unmarshal(data, &a); err == nil {
		return &a, nil, validate(&a)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, nil, err
	}
	var problems []string
	drop := func(field string, err error) {
		problems = append(problems, fmt.Sprintf("%s %s: %v: dropped", ProblemField, field, err))
	}
	str := func(field string, dst *string) {
		if v, ok := raw[field]; ok {
			s, err := lenientString(v)
			if err != nil {
				drop(field, err)
				return
			}
			*dst = s
		}
	}
	strs := func(field string, dst *[]string) {
		if v, ok := raw[field]; ok {
			s, err := lenientStrings(v)
			if err != nil {
				drop(field, err)
				return
			}
			*dst = s
		}
	}
	tm := func(field string, dst *time.Time) {
		if v, ok := raw[field]; ok {
			t, err := lenientTime(v)
			if err != nil {
				drop(field, err)
				return
			}
			*dst = t
		}
	}
	if v, ok := raw["v"]; ok {
		n, err := lenientInt(v)
		if err != nil {
			return nil, nil, fmt.Errorf("record version: %w", err)
		}
		a.V = n
	}
	str("id", &a.ID)
	str("arena", &a.Arena)
	str("url", &a.URL)
	tm("fetched_at", &a.FetchedAt)
	tm("posted_at", &a.PostedAt)
	str("title", &a.Title)
	str("body", &a.Body)
	str("name", &a.Name)
	if v, ok := raw["age"]; ok {
		n, err := lenientInt(v)
		if err != nil {
			drop("age", err)
		} else {
			a.Age = n
		}
	}
	str("city", &a.City)
	str("region", &a.Region)
	str("gender", &a.Gender)
	strs("phones", &a.Phones)
	strs("contacts", &a.Contacts)
	strs("contact_countries", &a.ContactCountries)
	strs("images", &a.Images)
	if v, ok := raw["image_fps"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &a.ImageFPs); err != nil {
			a.ImageFPs = nil
			drop("image_fps", err)
		}
	}
	if v, ok := raw["attrs"]; ok && string(v) != "null" {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(v, &m); err != nil {
			drop("attrs", errors.New("not an object"))
		} else {
			for k, x := range m {
				s, err := lenientString(x)
				if err != nil {
					drop("attrs."+k, err)
					continue
				}
				if a.Attrs == nil {
					a.Attrs = map[string]string{}
				}
				a.Attrs[k] = s
			}
		}
	}
	return &a, problems, validate(&a)
}

// validate is what every record needs to be an advert.
func validate(a *Ad) error {
	switch {
	case a.ID == "":
		return errors.New(`missing "id"`)
	case !ValidID(a.ID):
		return CheckID(a.ID)
	case a.V > SchemaVersion:
		return fmt.Errorf("record version %d is newer than supported %d", a.V, SchemaVersion)
	}
	return nil
}

// lenientString reads a string, a number or a boolean as text; null is "".
func lenientString(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s, nil
	}
	var x any
	if err := json.Unmarshal(v, &x); err != nil {
		return "", err
	}
	switch x := x.(type) {
	case nil:
		return "", nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("not text but %s", jsonKind(x))
}

// jsonKind names the JSON type of a decoded value. Problems name types,
// never values: a value may hold a phone number.
func jsonKind(x any) string {
	switch x.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "text"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// lenientStrings reads a list of texts, or one text as a list of one.
func lenientStrings(v json.RawMessage) ([]string, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(v, &list); err != nil {
		s, err := lenientString(v)
		if err != nil {
			return nil, err
		}
		if s == "" {
			return nil, nil
		}
		return []string{s}, nil
	}
	out := make([]string, 0, len(list))
	for i, x := range list {
		s, err := lenientString(x)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// lenientInt reads a whole number written as a number or as text ("25",
// " 25 "); null is 0.
func lenientInt(v json.RawMessage) (int, error) {
	s, err := lenientString(v)
	if err != nil {
		return 0, err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return 0, errors.New("not a whole number")
	}
	return int(f), nil
}

// timeLayouts are the date forms lenientTime reads besides RFC 3339; those
// without a zone are taken as UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

// lenientTime reads RFC 3339, the common forms of timeLayouts, or Unix
// seconds as a number; null and "" are the zero time.
func lenientTime(v json.RawMessage) (time.Time, error) {
	var x any
	if err := json.Unmarshal(v, &x); err != nil {
		return time.Time{}, err
	}
	switch x := x.(type) {
	case nil:
		return time.Time{}, nil
	case float64:
		if x < 0 || x > 1e11 || x != math.Trunc(x) {
			return time.Time{}, errors.New("a number but not Unix seconds")
		}
		return time.Unix(int64(x), 0).UTC(), nil
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return time.Time{}, nil
		}
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, errors.New("not a date in a known form (RFC 3339, 2006-01-02 15:04, 2006-01-02)")
	}
	return time.Time{}, fmt.Errorf("not a date but %s", jsonKind(x))
}
