// Package configs embeds the bundled arena configs (configs/arenas/*.yaml,
// documented in docs/ARENA-CONFIG.md) so that the binary carries the demo
// arenas' configs and tests can load every shipped config.
package configs

import "embed"

// Arenas holds arenas/*.yaml; read a file as Arenas.ReadFile("arenas/NAME.yaml").
//
//go:embed arenas/*.yaml
var Arenas embed.FS
