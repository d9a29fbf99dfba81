package bleve

import (
	"fmt"
	"regexp/syntax"
	"strings"
	"unicode"

	blevelib "github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"adcensus/index"
)

// The boolean layer over the bleve query-string syntax (docs/SEARCH.md):
// AND, OR and NOT (upper case, standing alone) and parentheses combine
// runs of plain query-string text. Each run is parsed by bleve as before;
// two operands with no operator between them must both match. Text with
// none of these is plain query-string text, parsed exactly as bleve does.

type tokKind int

const (
	tokText tokKind = iota
	tokOpen
	tokClose
	tokAnd
	tokOr
	tokNot
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset in the query text
}

// tokenize splits text into query-string runs and the boolean operators.
// Quoted phrases, /regexps/ and backslash escapes are kept inside runs;
// a + or - right before "(" is an operator (+ nothing, - NOT).
func tokenize(text string) ([]token, error) {
	var out []token
	var run strings.Builder
	runStart := -1
	flush := func() {
		if s := strings.TrimSpace(run.String()); s != "" {
			out = append(out, token{kind: tokText, text: s, pos: runStart})
		}
		run.Reset()
		runStart = -1
	}
	atWordStart := func(i int) bool {
		return i == 0 || unicode.IsSpace(rune(text[i-1])) || text[i-1] == '(' || text[i-1] == ')'
	}
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '\\':
			if runStart < 0 {
				runStart = i
			}
			end := min(i+2, len(text))
			run.WriteString(text[i:end])
			i = end
			continue
		case c == '"' || (c == '/' && (atWordStart(i) || text[i-1] == ':' || text[i-1] == '+' || text[i-1] == '-')):
			end := closing(text, i+1, c)
			if end < 0 {
				what := "quote"
				if c == '/' {
					what = "regexp /"
				}
				return nil, fmt.Errorf("%w: %q: unterminated %s at byte %d", index.ErrBadQuery, text, what, i)
			}
			if runStart < 0 {
				runStart = i
			}
			run.WriteString(text[i : end+1])
			i = end + 1
			continue
		case c == '(' || c == ')':
			kind := tokOpen
			if c == ')' {
				kind = tokClose
			}
			s := run.String()
			trimmed := strings.TrimRightFunc(s, unicode.IsSpace)
			if kind == tokOpen && len(trimmed) > 0 && (trimmed[len(trimmed)-1] == '+' || trimmed[len(trimmed)-1] == '-') &&
				(len(trimmed) == 1 || unicode.IsSpace(rune(trimmed[len(trimmed)-2]))) && len(trimmed) == len(s) {
				sign := trimmed[len(trimmed)-1]
				run.Reset()
				run.WriteString(trimmed[:len(trimmed)-1])
				flush()
				if sign == '-' {
					out = append(out, token{kind: tokNot, text: "-", pos: i - 1})
				}
			} else if kind == tokOpen && len(s) > 0 && !unicode.IsSpace(rune(s[len(s)-1])) {
				return nil, fmt.Errorf("%w: %q: ( at byte %d follows %q: a field or operator cannot apply to a group (write city:Lund OR city:Malmö)", index.ErrBadQuery, text, i, lastWord(s))
			} else {
				flush()
			}
			out = append(out, token{kind: kind, text: string(c), pos: i})
			i++
			continue
		case unicode.IsSpace(rune(c)):
			run.WriteByte(c)
			i++
			continue
		}
		// A word: an operator when it stands alone.
		end := i
		for end < len(text) && !unicode.IsSpace(rune(text[end])) && text[end] != '(' && text[end] != ')' && text[end] != '"' && text[end] != '\\' &&
			(text[end] != '/' || end == i || text[end-1] != ':') {
			end++
		}
		word := text[i:end]
		kind := tokText
		switch word {
		case "AND":
			kind = tokAnd
		case "OR":
			kind = tokOr
		case "NOT":
			kind = tokNot
		}
		if kind != tokText && atWordStart(i) && (end == len(text) || text[end] != '"' && text[end] != '\\') {
			flush()
			out = append(out, token{kind: kind, text: word, pos: i})
		} else {
			if runStart < 0 {
				runStart = i
			}
			run.WriteString(word)
		}
		i = end
	}
	flush()
	return out, nil
}

// closing returns the index of the first unescaped c at or after i, or -1.
func closing(text string, i int, c byte) int {
	for ; i < len(text); i++ {
		switch text[i] {
		case '\\':
			i++
		case c:
			return i
		}
	}
	return -1
}

func lastWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// boolParser is a recursive-descent parser over tokens:
//
//	or   = and { OR and }
//	and  = unary { [AND] unary }
//	unary = NOT unary | "(" or ")" | text
type boolParser struct {
	text string
	toks []token
	i    int
}

func (p *boolParser) peek() (token, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return token{}, false
}

func (p *boolParser) errorf(format string, a ...any) error {
	return fmt.Errorf("%w: %q: %s", index.ErrBadQuery, p.text, fmt.Sprintf(format, a...))
}

func (p *boolParser) parseOr() (query.Query, error) {
	first, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	qs := []query.Query{first}
	for {
		t, ok := p.peek()
		if !ok || t.kind != tokOr {
			break
		}
		p.i++
		q, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		qs = append(qs, q)
	}
	if len(qs) == 1 {
		return first, nil
	}
	d := query.NewDisjunctionQuery(qs)
	d.SetMin(1)
	return d, nil
}

func (p *boolParser) parseAnd() (query.Query, error) {
	first, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	qs := []query.Query{first}
	for {
		t, ok := p.peek()
		if !ok || t.kind == tokOr || t.kind == tokClose {
			break
		}
		if t.kind == tokAnd {
			p.i++
		}
		q, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		qs = append(qs, q)
	}
	if len(qs) == 1 {
		return first, nil
	}
	return query.NewConjunctionQuery(qs), nil
}

func (p *boolParser) parseUnary() (query.Query, error) {
	t, ok := p.peek()
	if !ok {
		if p.i == 0 {
			return nil, p.errorf("empty query")
		}
		prev := p.toks[p.i-1]
		return nil, p.errorf("nothing after %s at byte %d", prev.text, prev.pos)
	}
	p.i++
	switch t.kind {
	case tokNot:
		q, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		b := query.NewBooleanQuery([]query.Query{query.NewMatchAllQuery()}, nil, []query.Query{q})
		return b, nil
	case tokOpen:
		if n, ok := p.peek(); ok && n.kind == tokClose {
			return nil, p.errorf("empty () at byte %d", t.pos)
		}
		q, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		c, ok := p.peek()
		if !ok || c.kind != tokClose {
			return nil, p.errorf("( at byte %d is not closed", t.pos)
		}
		p.i++
		return q, nil
	case tokText:
		return parseRun(t.text)
	case tokClose:
		return nil, p.errorf(") at byte %d has no (", t.pos)
	}
	return nil, p.errorf("%s at byte %d needs a term before it", t.text, t.pos)
}

// parseRun parses one run of query-string text with bleve.
func parseRun(text string) (query.Query, error) {
	q, err := query.NewQueryStringQuery(text).Parse()
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", index.ErrBadQuery, text, err)
	}
	return q, nil
}

// parseText parses query text: plain query-string text, or the boolean
// layer over it. Empty text matches everything.
func parseText(text string) (query.Query, error) {
	if strings.TrimSpace(text) == "" {
		return blevelib.NewMatchAllQuery(), nil
	}
	if len(text) > index.MaxQueryText {
		return nil, fmt.Errorf("%w: query is %d bytes, at most %d", index.ErrBadQuery, len(text), index.MaxQueryText)
	}
	toks, err := tokenize(text)
	if err != nil {
		return nil, err
	}
	if len(toks) == 1 && toks[0].kind == tokText {
		q, err := query.NewQueryStringQuery(text).Parse()
		if err != nil {
			return nil, fmt.Errorf("%w: %q: %v", index.ErrBadQuery, text, err)
		}
		return q, nil
	}
	p := &boolParser{text: text, toks: toks}
	q, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t, ok := p.peek(); ok {
		if t.kind == tokClose {
			return nil, p.errorf(") at byte %d has no (", t.pos)
		}
		return nil, p.errorf("unexpected %s at byte %d", t.text, t.pos)
	}
	return q, nil
}

// checkComplexity refuses queries over the limits of index (terms,
// expensive terms, fuzziness) and regexps that do not compile, before any
// shard is searched.
func checkComplexity(text string, q query.Query) error {
	var terms, expensive int
	var err error
	var walk func(q query.Query)
	walk = func(q query.Query) {
		if err != nil {
			return
		}
		switch q := q.(type) {
		case *query.BooleanQuery:
			for _, c := range []query.Query{q.Must, q.Should, q.MustNot, q.Filter} {
				if c != nil {
					walk(c)
				}
			}
			return
		case *query.ConjunctionQuery:
			for _, c := range q.Conjuncts {
				walk(c)
			}
			return
		case *query.DisjunctionQuery:
			for _, c := range q.Disjuncts {
				walk(c)
			}
			return
		case *query.MatchAllQuery, *query.MatchNoneQuery:
			return
		case *query.MatchQuery:
			if q.Fuzziness > 0 {
				expensive++
				if q.Fuzziness > index.MaxFuzziness {
					err = fmt.Errorf("%w: %q: fuzziness %d on %q, at most %d", index.ErrBadQuery, text, q.Fuzziness, q.Match, index.MaxFuzziness)
				}
			}
		case *query.FuzzyQuery:
			expensive++
			if q.Fuzziness > index.MaxFuzziness {
				err = fmt.Errorf("%w: %q: fuzziness %d on %q, at most %d", index.ErrBadQuery, text, q.Fuzziness, q.Term, index.MaxFuzziness)
			}
		case *query.MatchPhraseQuery:
			if q.Fuzziness > 0 {
				expensive++
			}
		case *query.WildcardQuery, *query.PrefixQuery:
			expensive++
		case *query.RegexpQuery:
			expensive++
			re, perr := syntax.Parse(q.Regexp, syntax.Perl)
			switch {
			case perr != nil:
				err = fmt.Errorf("%w: %q: regexp /%s/: %v", index.ErrBadQuery, text, q.Regexp, perr)
			case regexpSize(re.Simplify()) > maxRegexpSize:
				err = fmt.Errorf("%w: regexp /%s/ is too complex (repetitions expand to more than %d parts)", index.ErrBadQuery, shorten(q.Regexp), maxRegexpSize)
			}
		}
		terms++
	}
	walk(q)
	if err != nil {
		return err
	}
	if terms > index.MaxQueryTerms {
		return fmt.Errorf("%w: %q has %d terms, at most %d", index.ErrBadQuery, shorten(text), terms, index.MaxQueryTerms)
	}
	if expensive > index.MaxExpensiveTerms {
		return fmt.Errorf("%w: %q has %d fuzzy, wildcard, prefix or regexp terms, at most %d", index.ErrBadQuery, shorten(text), expensive, index.MaxExpensiveTerms)
	}
	return nil
}

// maxRegexpSize bounds a regexp's parts once repetitions are expanded
// (c{1000} is 1,000): each becomes states of the automaton run over the
// term dictionary.
const maxRegexpSize = 200

func regexpSize(re *syntax.Regexp) int {
	n := 1
	for _, sub := range re.Sub {
		n += regexpSize(sub)
	}
	return n
}

func shorten(s string) string {
	if len(s) <= 80 {
		return s
	}
	cut := 80
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
