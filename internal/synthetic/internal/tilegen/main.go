// Command tilegen cuts the fixtures' photo tiles (package photoset) out of
// photographs from Debian wallpaper packages. It was run once, by hand, to
// produce internal/synthetic/photoset/photos/*.jpg and photos/SOURCES.md; it
// is kept so the tiles can be reproduced and audited, and is not used at run
// time.
//
// Usage (after `apt-get download mate-backgrounds plasma-workspace-wallpapers
// lomiri-wallpapers-16.04 lomiri-wallpapers-20.04` on Debian 12 and
// `dpkg-deb -x` of each package into ROOT/<package>/):
//
//	go run ./internal/synthetic/internal/tilegen -root ROOT -out internal/synthetic/photoset/photos
//
// Every source photograph is scaled to several widths and cut into grids of
// 240×180 tiles. Tiles with little detail (sky, flat colour, blur) are
// rejected, and so are tiles whose pHash moves more than -maxvariant bits in
// the nattlinjen arena's re-encoded variant (package variant). Going round
// the photos, most detailed tiles first, a tile is kept only if its pHash
// differs from every tile already kept by at least -mindist bits and it
// shares less than a tenth of its area with a kept tile of the same photo,
// so that no two tiles can be taken for the same photo by a perceptual-hash
// de-duplicator (or a person). The output is deterministic.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"log"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/corona10/goimagehash"
	"golang.org/x/image/draw"

	"adcensus/internal/synthetic/internal/variant"
)

const (
	tileW, tileH = 240, 180
	quality      = 80
)

type source struct {
	pkg, version string // Debian package and version
	path         string // path inside the package
	author       string
	licence      string
}

const (
	mateVer   = "1.26.0-1"
	plasmaVer = "4:5.27.5-2"
	lomiriVer = "20.04.0-2"
	mateLic   = "GPL-2+ (per-file stanza of the package's debian/copyright)"
	plasmaLic = "LGPL-3 (\"LGPLv3\" in the wallpaper's metadata.json; debian/copyright: GPL-2+, see notes)"
)

func mate(file, author string) source {
	return source{pkg: "mate-backgrounds", version: mateVer, path: "usr/share/backgrounds/mate/nature/" + file,
		author: author, licence: mateLic}
}

func plasma(dir, author string) source {
	return source{pkg: "plasma-workspace-wallpapers", version: plasmaVer,
		path: "usr/share/wallpapers/" + dir + "/contents/images/2560x1600.jpg", author: author, licence: plasmaLic}
}

func lomiri(series, file, author, licence string) source {
	return source{pkg: "lomiri-wallpapers-" + series, version: lomiriVer, path: "usr/share/backgrounds/" + file,
		author: author, licence: licence + " (per-file stanza " + series + "/" + file + " of the package's debian/copyright)"}
}

var sources = []source{
	mate("Dune.jpg", "Marco Cogoni (2007), Hylke Bons (2008)"),
	mate("FreshFlower.jpg", "Jens Ansorg (2005)"),
	mate("Garden.jpg", "Charles Barbin (2008)"),
	mate("GreenMeadow.jpg", "Timothy Schellhase (2005), Lapo Calamandrei (2008)"),
	mate("LadyBird.jpg", "Charles Barbin (2008)"),
	mate("RainDrops.jpg", "\"blackcombwhistler07\" (2008)"),
	mate("TwoWings.jpg", "Charles Barbin (2008), Hylke Bons (2008)"),
	mate("YellowFlower.jpg", "Charles Barbin (2008)"),
	mate("Blinds.jpg", "Lennart Poettering (2008), Andrea Cimitan (2008)"),
	mate("Aqua.jpg", "Charles Barbin (2008)"),
	mate("Wood.jpg", "Jean-François Fortin Tam (2008)"),
	mate("Storm.jpg", "Sergey Nazarov (2008)"),
	plasma("BytheWater", "Maciej Wiklo"),
	plasma("EveningGlow", "Ian Hex"),
	plasma("FallenLeaf", "Martin Klapetek"),
	plasma("Grey", "Sigi Sagi"),
	plasma("OneStandsOut", "Risto Saukonpää"),
	plasma("Path", "Risto Saukonpää"),
	plasma("ColorfulCups", "Dmitri Popov"),
	plasma("ColdRipple", "Risto Saukonpää"),
	lomiri("16.04", "Bridge_by_Sander_Klootwijk.jpg", "Sander Klootwijk (2018)", "CC-BY-SA-4.0"),
	lomiri("16.04", "Dragonfly_by_Bolly.jpg", "\"Bolly\" (2018)", "CC-BY-SA-4.0"),
	lomiri("16.04", "Picture_0B_by_freespace.jpg", "Trevor \"Freespace\" (2018)", "CC-BY-4.0"),
	lomiri("16.04", "Picture_1A_by_freespace.jpg", "Trevor \"Freespace\" (2018)", "CC-BY-4.0"),
	lomiri("16.04", "aitzgorri_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi (2018)", "CC-BY-4.0"),
	lomiri("16.04", "analogpattern_by_Peter_Nerlich.jpg", "Peter Nerlich (2018)", "CC-BY-SA-4.0"),
	lomiri("16.04", "free_by_Peter_Nerlich.jpg", "Peter Nerlich (2018)", "CC-BY-SA-4.0"),
	lomiri("16.04", "friends_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi (2018)", "CC-BY-4.0"),
	lomiri("16.04", "greentock_by_Peter_Nerlich.jpg", "Peter Nerlich (2018)", "CC-BY-SA-4.0"),
	lomiri("16.04", "life_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi (2018)", "CC-BY-4.0"),
	lomiri("16.04", "picosdeeuropa_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi (2018)", "CC-BY-4.0"),
	lomiri("16.04", "seeding_by_Clements_Engelhardt.jpg", "Clemens Engelhardt (2018)", "CC0-1.0"),
	lomiri("16.04", "sunset_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi (2018)", "CC-BY-4.0"),
	lomiri("20.04", "Kleiber_by_Lukas_Baubkus.jpg", "Lukas Baubkus (2021)", "CC-BY-SA-3.0"),
}

// scales are the widths each photo is scaled to before cutting (only those
// not wider than the photo itself).
var scales = []int{720, 960, 1280, 1680, 2240}

type tile struct {
	src      int
	scale    int
	col, row int
	contrast float64         // standard deviation of luma on a coarse grid
	edges    float64         // mean luma step between neighbours on a coarse grid
	robust   int             // pHash distance between the tile and its nattlinjen variant
	area     image.Rectangle // the tile's region in the original photo
	jpg      []byte
	hash     *goimagehash.ImageHash
}

func (t *tile) score() float64 { return t.contrast + 2*t.edges }

func main() {
	root := flag.String("root", "/tmp/wp/x", "folder with each package extracted into <package>/")
	out := flag.String("out", "internal/synthetic/photoset/photos", "output folder")
	want := flag.Int("n", 160, "number of tiles to keep")
	minDist := flag.Int("mindist", 24, "minimum pHash Hamming distance between kept tiles")
	minContrast := flag.Float64("mincontrast", 20, "minimum luma standard deviation (coarse grid) of a kept tile")
	minEdges := flag.Float64("minedges", 5, "minimum mean luma step (coarse grid) of a kept tile")
	maxRobust := flag.Int("maxvariant", 4, "maximum pHash distance between a kept tile and its nattlinjen variant")
	dump := flag.String("dump", "", "write every candidate tile's measures to this CSV file")
	flag.Parse()

	var csv strings.Builder
	csv.WriteString("source,scale,col,row,contrast,edges,variant_dist\n")
	perSource := candidates(*root, *minContrast, *minEdges, *maxRobust, &csv)
	if *dump != "" {
		if err := os.WriteFile(*dump, []byte(csv.String()), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	kept := roundRobin(perSource, *minDist)
	if len(kept) < *want {
		log.Fatalf("only %d tiles pass (want %d)", len(kept), *want)
	}
	kept = prune(kept, *want)
	writeTiles(*out, kept, *minDist)
}

// candidates cuts every source photo, at every scale, into tiles and keeps
// those with enough detail and a hash that survives the nattlinjen variant,
// most detailed first per source; it writes every tile's measures to csv.
func candidates(root string, minContrast, minEdges float64, maxRobust int, csv *strings.Builder) [][]*tile {
	perSource := make([][]*tile, len(sources))
	rejected := 0
	for i, s := range sources {
		img, err := load(filepath.Join(root, s.pkg, s.path))
		if err != nil {
			log.Fatal(err)
		}
		b := img.Bounds()
		for _, sw := range scales {
			if sw > b.Dx() {
				continue
			}
			h := b.Dy() * sw / b.Dx()
			scaled := image.NewRGBA(image.Rect(0, 0, sw, h))
			draw.CatmullRom.Scale(scaled, scaled.Bounds(), img, b, draw.Src, nil)
			cols, rows := sw/tileW, h/tileH
			offX, offY := (sw-cols*tileW)/2, (h-rows*tileH)/2
			for r := 0; r < rows; r++ {
				for c := 0; c < cols; c++ {
					rect := image.Rect(offX+c*tileW, offY+r*tileH, offX+(c+1)*tileW, offY+(r+1)*tileH)
					sub := image.NewRGBA(image.Rect(0, 0, tileW, tileH))
					draw.Copy(sub, image.Point{}, scaled, rect, draw.Src, nil)
					t := &tile{src: i, scale: sw, col: c, row: r}
					t.area = image.Rect(rect.Min.X*b.Dx()/sw, rect.Min.Y*b.Dx()/sw, rect.Max.X*b.Dx()/sw, rect.Max.Y*b.Dx()/sw).Add(b.Min)
					t.contrast, t.edges = detail(sub)
					if t.contrast < minContrast || t.edges < minEdges {
						rejected++
						continue
					}
					var buf bytes.Buffer
					if err := jpeg.Encode(&buf, sub, &jpeg.Options{Quality: quality}); err != nil {
						log.Fatal(err)
					}
					t.jpg = buf.Bytes()
					if t.hash, err = phash(t.jpg); err != nil {
						log.Fatal(err)
					}
					v, err := variant.JPEG(t.jpg)
					if err != nil {
						log.Fatal(err)
					}
					vh, err := phash(v)
					if err != nil {
						log.Fatal(err)
					}
					t.robust, _ = t.hash.Distance(vh)
					fmt.Fprintf(csv, "%s,%d,%d,%d,%.1f,%.1f,%d\n", filepath.Base(s.path), sw, c, r, t.contrast, t.edges, t.robust)
					if t.robust > maxRobust {
						rejected++
						continue
					}
					perSource[i] = append(perSource[i], t)
				}
			}
		}
		sort.SliceStable(perSource[i], func(a, b int) bool { return perSource[i][a].score() > perSource[i][b].score() })
		log.Printf("%-40s %3d candidate tiles", filepath.Base(s.path), len(perSource[i]))
	}
	log.Printf("%d tiles rejected for low detail or a fragile hash", rejected)
	return perSource
}

// roundRobin goes round the sources, most detailed tiles first, keeping a
// tile only when it is far from every tile kept so far.
func roundRobin(perSource [][]*tile, minDist int) []*tile {
	var kept []*tile
	for progress := true; progress; {
		progress = false
		for i := range perSource {
			for len(perSource[i]) > 0 {
				t := perSource[i][0]
				perSource[i] = perSource[i][1:]
				if far(t, kept, minDist) {
					kept = append(kept, t)
					progress = true
					break
				}
			}
		}
	}
	return kept
}

// writeTiles writes the kept tiles as p001.jpg … into out (removing older
// ones) and SOURCES.md beside them.
func writeTiles(out string, kept []*tile, minDist int) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		log.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(out, "*.jpg"))
	for _, f := range old {
		os.Remove(f)
	}
	used := map[int][]string{}
	total, worstVariant := 0, 0
	for n, t := range kept {
		name := fmt.Sprintf("p%03d.jpg", n+1)
		if err := os.WriteFile(filepath.Join(out, name), t.jpg, 0o644); err != nil {
			log.Fatal(err)
		}
		total += len(t.jpg)
		worstVariant = max(worstVariant, t.robust)
		used[t.src] = append(used[t.src], fmt.Sprintf("%s (%d px wide, col %d, row %d)", name, t.scale, t.col, t.row))
	}
	minPair := 64
	for i := range kept {
		for j := i + 1; j < len(kept); j++ {
			d, _ := kept[i].hash.Distance(kept[j].hash)
			minPair = min(minPair, d)
		}
	}
	md := sourcesMD(used, len(kept), total, minPair, minDist, worstVariant)
	if err := os.WriteFile(filepath.Join(out, "SOURCES.md"), []byte(md), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("kept %d tiles, %d bytes, min pairwise pHash distance %d, max tile-variant distance %d", len(kept), total, minPair, worstVariant)
}

// prune drops tiles until n are left, each time one of the two closest
// tiles (by pHash): the one with more close neighbours, or the less detailed.
func prune(kept []*tile, n int) []*tile {
	dist := func(a, b *tile) int { d, _ := a.hash.Distance(b.hash); return d }
	for len(kept) > n {
		best, bi, bj := 65, -1, -1
		for i := range kept {
			for j := i + 1; j < len(kept); j++ {
				if d := dist(kept[i], kept[j]); d < best {
					best, bi, bj = d, i, j
				}
			}
		}
		close := func(i int) int {
			c := 0
			for j := range kept {
				if j != i && dist(kept[i], kept[j]) <= best+1 {
					c++
				}
			}
			return c
		}
		drop := bj
		if ci, cj := close(bi), close(bj); ci > cj || (ci == cj && kept[bi].score() < kept[bj].score()) {
			drop = bi
		}
		kept = append(kept[:drop], kept[drop+1:]...)
	}
	return kept
}

func phash(jpg []byte) (*goimagehash.ImageHash, error) {
	img, err := jpeg.Decode(bytes.NewReader(jpg))
	if err != nil {
		return nil, err
	}
	return goimagehash.PerceptionHash(img)
}

// far says whether t is far from every kept tile: its pHash differs by at
// least minDist bits, and it shares almost nothing of the photo with a kept
// tile of the same photo (cut at another scale), so that no two tiles look
// alike to a person or to another kind of image hash either.
func far(t *tile, kept []*tile, minDist int) bool {
	for _, k := range kept {
		if k.src == t.src {
			in := k.area.Intersect(t.area)
			small := min(k.area.Dx()*k.area.Dy(), t.area.Dx()*t.area.Dy())
			if in.Dx()*in.Dy()*10 > small {
				return false
			}
		}
		if d, _ := t.hash.Distance(k.hash); d < minDist {
			return false
		}
	}
	return true
}

func load(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// detail measures a tile on a coarse 48×36 grid of mean luma (the scale
// perceptual hashes look at): the standard deviation (near 0 for sky and
// flat colour) and the mean step between neighbouring cells (near 0 for
// smooth gradients and blur).
func detail(img *image.RGBA) (contrast, edges float64) {
	const gw, gh = 48, 36
	var grid [gh][gw]float64
	var cnt [gh][gw]int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			o := img.PixOffset(x, y)
			p := img.Pix[o : o+3]
			gy, gx := (y-b.Min.Y)*gh/b.Dy(), (x-b.Min.X)*gw/b.Dx()
			grid[gy][gx] += 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
			cnt[gy][gx]++
		}
	}
	var sum, sq float64
	for y := range gh {
		for x := range gw {
			grid[y][x] /= float64(cnt[y][x])
			sum += grid[y][x]
			sq += grid[y][x] * grid[y][x]
		}
	}
	n := float64(gw * gh)
	mean := sum / n
	contrast = math.Sqrt(math.Max(0, sq/n-mean*mean))
	var steps float64
	var ns int
	for y := range gh {
		for x := range gw {
			if x+1 < gw {
				steps += math.Abs(grid[y][x] - grid[y][x+1])
				ns++
			}
			if y+1 < gh {
				steps += math.Abs(grid[y][x] - grid[y+1][x])
				ns++
			}
		}
	}
	return contrast, steps / float64(ns)
}

func sourcesMD(used map[int][]string, n, total, minPair, minDist, worstVariant int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# Sources of the demo photos

The %d tiles in this folder (240×180 JPEG, quality %d, %d KiB in all) are cut
from photographs shipped in Debian 12 ("bookworm") wallpaper packages,
fetched with `+"`apt-get download`"+` and unpacked with `+"`dpkg-deb -x`"+`.
They show landscapes, plants, animals and objects; no people. They were made
once by `+"`go run ./internal/synthetic/internal/tilegen`"+` (see its doc
comment): each photo was scaled to each of %s px wide (where not wider
than the original) and cut into a grid of 240×180 tiles; tiles with little detail
(sky, flat colour, blur) were rejected, and so were tiles whose pHash moves
more than a few bits in the nattlinjen arena's re-encoded variant; a tile was
kept only if its pHash (github.com/corona10/goimagehash) is at least %d bits
from every tile kept before it.

- smallest pHash distance between two tiles here: %d
- largest pHash distance between a tile and its nattlinjen variant: %d

The tiles are modified (scaled, cropped, re-compressed) versions of the
originals and are distributed under the licence of their source, listed
below. Licence texts: /usr/share/common-licenses/ on Debian systems (GPL-2,
LGPL-3, CC0-1.0) and each package's /usr/share/doc/<package>/copyright
(CC-BY-4.0, CC-BY-SA-3.0, CC-BY-SA-4.0 at creativecommons.org).

| Debian package (version) | original file | author (copyright holders) | licence | tiles |
| --- | --- | --- | --- | --- |
`, n, quality, (total+1023)/1024, strings.Trim(strings.Join(strings.Fields(fmt.Sprint(scales)), ", "), "[]"), minDist, minPair, worstVariant)
	var idx []int
	for i := range used {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		s := sources[i]
		fmt.Fprintf(&b, "| %s (%s) | /%s | %s | %s | %s |\n", s.pkg, s.version, s.path, s.author, s.licence, strings.Join(used[i], ", "))
	}
	b.WriteString(`
Notes:

- mate-backgrounds: the "Files:" stanzas of
  /usr/share/doc/mate-backgrounds/copyright name the copyright holders of
  each photo and give GPL-2+ for every photo used here.
- plasma-workspace-wallpapers: the author and licence ("LGPLv3") of each
  wallpaper are in /usr/share/wallpapers/<name>/metadata.json; the package's
  /usr/share/doc/plasma-workspace-wallpapers/copyright has the single stanza
  "Files: * / Copyright: 2014 KDE Visual Design Group / License: GPL-2+".
  Either way a free licence that allows modified copies.
- lomiri-wallpapers-16.04 and lomiri-wallpapers-20.04 (one source package,
  lomiri-wallpapers): /usr/share/doc/<package>/copyright has one stanza per
  photo with its author and licence (CC-BY-4.0, CC-BY-SA-3.0, CC-BY-SA-4.0
  or CC0-1.0). Attribution is given here; the tiles are modified.
`)
	return b.String()
}
