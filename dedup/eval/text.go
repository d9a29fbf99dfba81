package eval

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// maxListed is how many missing or extra ad_ids WriteText shows by name.
const maxListed = 5

// WriteText writes the report as a readable table, persons and networks side
// by side: labels left-aligned, values right-aligned.
func (r *Report) WriteText(w io.Writer) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "adverts evaluated: %d (the truth)\n", r.Adverts)
	fmt.Fprintf(&sb, "missing in prediction: %d (scored as singletons)%s\n", len(r.MissingInPred), sample(r.MissingInPred))
	fmt.Fprintf(&sb, "extra in prediction: %d (ignored)%s\n\n", len(r.ExtraInPred), sample(r.ExtraInPred))

	rows := [][]string{{"", "persons", "networks"}}
	row := func(name string, f func(m *Metrics) string) {
		net := "skipped"
		if r.Networks != nil {
			net = f(r.Networks)
		}
		rows = append(rows, []string{name, f(&r.Persons), net})
	}
	row("true clusters", func(m *Metrics) string { return fmt.Sprint(m.TrueClusters) })
	row("predicted clusters", func(m *Metrics) string { return fmt.Sprint(m.PredClusters) })
	row("count error (pred-true)", func(m *Metrics) string {
		return fmt.Sprintf("%+d (%+.1f%%)", m.CountError, 100*m.RelativeCountError)
	})
	row("true pairs", func(m *Metrics) string { return fmt.Sprint(m.Pairwise.TruePairs) })
	row("predicted pairs", func(m *Metrics) string { return fmt.Sprint(m.Pairwise.PredPairs) })
	row("shared pairs", func(m *Metrics) string { return fmt.Sprint(m.Pairwise.SharedPairs) })
	score := func(name string, f func(m *Metrics) float64) {
		row(name, func(m *Metrics) string { return fmt.Sprintf("%.4f", f(m)) })
	}
	score("pairwise precision", func(m *Metrics) float64 { return m.Pairwise.Precision })
	score("pairwise recall", func(m *Metrics) float64 { return m.Pairwise.Recall })
	score("pairwise F1", func(m *Metrics) float64 { return m.Pairwise.F1 })
	score("B-cubed precision", func(m *Metrics) float64 { return m.BCubed.Precision })
	score("B-cubed recall", func(m *Metrics) float64 { return m.BCubed.Recall })
	score("B-cubed F1", func(m *Metrics) float64 { return m.BCubed.F1 })
	score("adjusted Rand index", func(m *Metrics) float64 { return m.ARI })

	width := make([]int, len(rows[0]))
	for _, cells := range rows {
		for i, c := range cells {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, cells := range rows {
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i == 0 {
				sb.WriteString(c + pad)
			} else {
				sb.WriteString("  " + pad + c)
			}
		}
		sb.WriteByte('\n')
	}
	if r.Networks == nil && r.NetworksSkipped != "" {
		fmt.Fprintf(&sb, "networks skipped: %s\n", r.NetworksSkipped)
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// sample formats the first few ids as ": a, b, c, …".
func sample(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	if len(ids) <= maxListed {
		return ": " + strings.Join(ids, ", ")
	}
	return ": " + strings.Join(ids[:maxListed], ", ") + ", …"
}
