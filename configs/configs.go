// Package configs embeds the bundled arena configs (configs/arenas/*.yaml,
// documented in docs/ARENA-CONFIG.md) and the shipped indicator patterns
// (configs/patterns/*.yaml, docs/PATTERNS.md) so that the binary carries
// them wherever it runs and tests can load every shipped config.
package configs

import "embed"

// Arenas holds arenas/*.yaml; read a file as Arenas.ReadFile("arenas/NAME.yaml").
//
//go:embed arenas/*.yaml
var Arenas embed.FS

// Patterns holds patterns/*.yaml, the shipped indicator patterns; 'adcensus
// patterns' uses them from any folder.
//
//go:embed patterns/*.yaml
var Patterns embed.FS
