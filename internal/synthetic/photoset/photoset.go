// Package photoset is the one set of photos the test fixtures use: 160
// bland landscape, plant, animal and object tiles (240×180 JPEG) cut from
// Debian wallpapers, embedded with their sources and licences
// (photos/SOURCES.md, made with the tiles by internal/synthetic/internal/tilegen).
// The demo arenas serve them and the corpus generator cuts its base photos
// from them; tests of image hashing use them as real photographs. Fixture
// data, not product code.
package photoset

import (
	"embed"
	"io/fs"
	"path"
	"sort"
)

// photoFS holds the photo tiles and, beside them, their sources and
// licences (photos/SOURCES.md).
//
//go:embed photos/*.jpg photos/SOURCES.md
var photoFS embed.FS

// Names lists the photo tiles by file name (p001.jpg …), sorted.
func Names() []string {
	entries, err := fs.Glob(photoFS, "photos/*.jpg")
	if err != nil {
		panic(err)
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = path.Base(e)
	}
	sort.Strings(out)
	return out
}

// JPEG returns a photo tile as stored (240×180 JPEG).
func JPEG(name string) ([]byte, error) {
	return photoFS.ReadFile("photos/" + name)
}

// Sources returns photos/SOURCES.md: where each tile comes from and
// under which licence.
func Sources() string {
	b, _ := photoFS.ReadFile("photos/SOURCES.md")
	return string(b)
}
