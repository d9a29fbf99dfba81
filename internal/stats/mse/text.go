package mse

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes a human-readable summary of r.
func (r *Result) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	pct := fmt.Sprintf("%g%%", r.Level*100)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format, a...) }
	p("Multiple-systems estimate (Poisson log-linear model), %d lists: %s\n", len(r.Lists), strings.Join(r.Lists, ", "))
	p("observed persons:\t%d\n", r.Observed)
	p("estimated hidden:\t%.0f\n", r.Hidden)
	p("estimated total:\t%.0f\n", r.Total)
	if r.Replicates > 0 {
		p("%s interval:\t%.0f – %.0f\t(%s)\n", pct, r.CILow, r.CIHigh, r.CIMethod)
	}
	if r.Profile != nil {
		p("%s interval:\t%.0f – %.0f\t(%s)\n", pct, r.Profile.Low, r.Profile.High, r.Profile.Method)
	}
	if r.Wald != nil {
		p("%s interval:\t%.0f – %.0f\t(%s)\n", pct, r.Wald.Low, r.Wald.High, r.Wald.Method)
	}
	sel := map[string]string{
		"aic":    "forward stepwise by AIC",
		"bic":    "forward stepwise by BIC",
		"pvalue": "forward stepwise by Poisson p-value",
		"none":   "main effects only",
		"fixed":  "fixed by the caller",
	}[r.Criterion]
	inter := "none"
	if len(r.Interactions) > 0 {
		inter = strings.Join(r.Interactions, ", ")
	}
	p("model (%s):\tmain effects + interactions: %s\n", sel, inter)
	p("fit:\tlog-likelihood %.2f, deviance %.2f on %d df, AIC %.2f, BIC %.2f\n", r.LogLik, r.Deviance, r.DF, r.AIC, r.BIC)
	if a := r.Alternative; a != nil && a.Disagree {
		p("other rule (%s):\testimated total %.0f, interactions: %s — outside the interval above\n", sel2(a.Criterion), a.Total, orNone(a.Interactions))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Coefficients) > 0 {
		fmt.Fprintln(w, "coefficients (log scale):")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "  term\testimate\ts.e.\t\n")
		for _, c := range r.Coefficients {
			fmt.Fprintf(tw, "  %s\t%.4f\t%.4f\t\n", c.Term, c.Estimate, c.SE)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w, "warnings:")
		for _, s := range r.Warnings {
			fmt.Fprintf(w, "  - %s\n", s)
		}
	}
	return nil
}

func sel2(c string) string {
	if c == "pvalue" {
		return "p-value rule"
	}
	return strings.ToUpper(c)
}
