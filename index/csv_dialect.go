package index

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Format names of the CSV dialects (the API's format parameter).
const (
	FormatCSV = "csv"
	// FormatCSVExcel is CSV that Swedish Excel opens into columns with
	// the characters right: UTF-8 byte-order mark, ";" between fields,
	// decimal comma, CRLF line ends.
	FormatCSVExcel = "csv-excel"
)

// CSVDialect is how a CSV export is written.
type CSVDialect struct {
	// Comma separates fields.
	Comma rune
	// BOM starts the file with the UTF-8 byte-order mark, which Excel
	// needs to read UTF-8 (Göteborg, not GÃ¶teborg).
	BOM bool
	// DecimalComma writes 12,5 for 12.5.
	DecimalComma bool
	// CRLF ends lines with \r\n.
	CRLF bool
}

// StandardCSV is RFC 4180 CSV with "," and decimal points, as the
// command line writes it.
func StandardCSV() CSVDialect { return CSVDialect{Comma: ','} }

// SwedishExcelCSV is CSV for Excel with Swedish regional settings, whose
// list separator is ";" and decimal separator ",".
func SwedishExcelCSV() CSVDialect {
	return CSVDialect{Comma: ';', BOM: true, DecimalComma: true, CRLF: true}
}

// CSVDialectOf returns the dialect of a format name (FormatCSV,
// FormatCSVExcel), false for another name.
func CSVDialectOf(format string) (CSVDialect, bool) {
	switch format {
	case FormatCSV:
		return StandardCSV(), true
	case FormatCSVExcel:
		return SwedishExcelCSV(), true
	}
	return CSVDialect{}, false
}

// NewWriter returns a csv.Writer of the dialect on w, after writing the
// byte-order mark if the dialect has one.
func (d CSVDialect) NewWriter(w io.Writer) (*csv.Writer, error) {
	if d.BOM {
		if _, err := io.WriteString(w, "\uFEFF"); err != nil {
			return nil, fmt.Errorf("write csv: %w", err)
		}
	}
	cw := csv.NewWriter(w)
	if d.Comma != 0 {
		cw.Comma = d.Comma
	}
	cw.UseCRLF = d.CRLF
	return cw, nil
}

// Float formats f with at most prec decimals (-1: as many as needed), with
// the dialect's decimal separator.
func (d CSVDialect) Float(f float64, prec int) string {
	s := strconv.FormatFloat(f, 'f', prec, 64)
	if d.DecimalComma {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}
