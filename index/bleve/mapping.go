package bleve

import (
	"time"

	blevelib "github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"

	"adcensus/index"
)

// mappingVersion is stored in docs.db; when it differs from the stored one,
// Open rebuilds ads.bleve from docs.db. Bump it with every mapping change.
const mappingVersion = "4" // 2: contact_countries, possible_minor; 3: monthly shards; 4: folded analyzers

// newMapping returns the explicit index mapping: one document mapping per
// language (the document's "lang" field picks it), identical except for the
// analyzer of the text fields (Swedish or English, diacritics folded: see
// fold.go). Only text fields go into the _all field that
// searches without a field name use; keyword fields are matched exactly.
func newMapping() mapping.IndexMapping {
	im := blevelib.NewIndexMapping()
	im.TypeField = index.FieldLang
	im.DefaultType = index.LangSwedish
	addFoldedAnalyzers(im)
	im.DefaultAnalyzer = svFolded
	im.IndexDynamic = false
	im.StoreDynamic = false
	im.DocValuesDynamic = false
	im.DefaultMapping = docMapping(svFolded)
	im.AddDocumentMapping(index.LangSwedish, docMapping(svFolded))
	im.AddDocumentMapping(index.LangEnglish, docMapping(enFolded))
	return im
}

func docMapping(analyzer string) *mapping.DocumentMapping {
	dm := blevelib.NewDocumentStaticMapping()
	for _, f := range index.TextFields() {
		fm := blevelib.NewTextFieldMapping()
		fm.Analyzer = analyzer
		fm.Store = false
		fm.DocValues = false
		fm.IncludeInAll = true
		fm.IncludeTermVectors = true // phrase queries
		dm.AddFieldMappingsAt(f, fm)
	}
	for _, f := range index.FacetFields() {
		fm := blevelib.NewKeywordFieldMapping()
		fm.Analyzer = keyword.Name
		fm.Store = f == index.FieldPersonID // read back when grouping by person
		fm.DocValues = true
		fm.IncludeInAll = false
		fm.IncludeTermVectors = false
		dm.AddFieldMappingsAt(f, fm)
	}
	age := blevelib.NewNumericFieldMapping()
	age.Store, age.IncludeInAll = false, false
	dm.AddFieldMappingsAt(index.FieldAge, age)
	for _, f := range []string{index.FieldPostedAt, index.FieldFetchedAt} {
		fm := blevelib.NewDateTimeFieldMapping()
		fm.Store, fm.IncludeInAll = false, false
		dm.AddFieldMappingsAt(f, fm)
	}
	return dm
}

// bleveDoc is what is handed to bleve for one document: zero values are
// left out so that, for example, an unknown age is not indexed as 0.
func bleveDoc(d *index.Doc) map[string]any {
	m := map[string]any{
		index.FieldID:    d.ID,
		index.FieldArena: d.Arena,
		index.FieldLang:  d.Lang,
	}
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	put(index.FieldTitle, d.Title)
	put(index.FieldBody, d.Body)
	put(index.FieldPlace, joinNonEmpty(d.City, d.Region))
	put(index.FieldCity, d.City)
	put(index.FieldRegion, d.Region)
	put(index.FieldGender, d.Gender)
	put(index.FieldWeek, d.Week)
	put(index.FieldMonth, d.Month)
	put(index.FieldPersonID, d.PersonID)
	put(index.FieldNetworkID, d.NetworkID)
	if len(d.Contacts) > 0 {
		m[index.FieldContacts] = d.Contacts
	}
	if len(d.ContactCountries) > 0 {
		m[index.FieldContactCountries] = d.ContactCountries
	}
	if d.PossibleMinor {
		m[index.FieldPossibleMinor] = "true"
	}
	if d.Age > 0 {
		m[index.FieldAge] = d.Age
	}
	for k, t := range map[string]time.Time{index.FieldPostedAt: d.PostedAt, index.FieldFetchedAt: d.FetchedAt} {
		if !t.IsZero() {
			m[k] = t
		}
	}
	return m
}

func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}
