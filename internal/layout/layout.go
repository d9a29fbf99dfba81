// Package layout holds no code: its test keeps the house's rules — which
// folder may import which, and how long a production file may grow
// (docs/ARCHITECTURE.md draws them).
package layout
