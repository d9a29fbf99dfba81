// Package mse estimates the number of persons seen on no list (the "dark
// figure") from a capture-history table, by multiple-systems estimation with
// Poisson log-linear models (main effects plus selected two-list
// interactions), following the approach of Silverman (2014) and the sparse-
// table refinements of Chan, Silverman & Vincent (JASA 2021, R package
// SparseMSE). In adcensus the lists are arenas and a "person" is a
// de-duplicated person, so the method relies on the de-duplication having no
// false matches across arenas. See docs/MSE.md for the model, the handling of
// sparse tables, model choice and the confidence intervals.
//
// The API is small: ReadTable (or NewTable), Estimate and (*Result).WriteText.
package mse
