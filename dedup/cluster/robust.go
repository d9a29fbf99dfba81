package cluster

import (
	"fmt"

	"adcensus/internal/imagehash"
)

// Robust image matching on the hashes of centred regions at four scales
// (imagehash.Centres) and of shifted windows (imagehash.Shifts), each
// with the hash of the region mirrored. The threshold was chosen on a
// training split of synthetic transformed photo pairs and checked on a
// held-out split (dedup/cluster/imagematch_test.go, docs/DEDUP.md).

// Geometry of the robust hashes, as internal/imagehash writes them.
const (
	NumScales = len(imagehash.CentreScales) // centred regions, sides 100, 86, 74, 64 %
	GridSide  = imagehash.GridSide
	NumTiles  = GridSide * GridSide // shifted windows, side 80 %
)

// NoDistance is larger than any Hamming distance of 64-bit hashes.
const NoDistance = 65

// scalePercent names the centred regions.
var scalePercent = [NumScales]int{100, 86, 74, 64}

func (h *ImageHash) robust() bool {
	return len(h.Scales) == 2*NumScales && len(h.Grid) == 2*NumTiles
}

// ScaleDistance is the least distance between the hashes of centred
// regions of a and b at the same or neighbouring scales, in any
// orientation, and the scales (indices) that gave it. It is NoDistance
// when either image lacks the hashes. It is symmetric.
func ScaleDistance(a, b *ImageHash) (d, sa, sb int) {
	d, sa, sb = NoDistance, -1, -1
	if !a.robust() || !b.robust() {
		return d, sa, sb
	}
	for i := range NumScales {
		for j := max(0, i-1); j <= min(NumScales-1, i+1); j++ {
			for _, x := range a.Scales[2*i : 2*i+2] {
				for _, y := range b.Scales[2*j : 2*j+2] {
					if e := Hamming(x, y); e < d {
						d, sa, sb = e, i, j
					}
				}
			}
		}
	}
	return d, sa, sb
}

// ShiftDistance is the least distance between a centred region of one
// image (sides 86 % and 74 %, as is) and any shifted window of the other
// (side 80 %, moved up to 5 % each way, as is or mirrored), either way
// round: a copy cropped more on one side than the other has its centre
// moved. It is NoDistance when either image lacks the hashes. It is
// symmetric.
func ShiftDistance(a, b *ImageHash) int {
	d := NoDistance
	if !a.robust() || !b.robust() {
		return d
	}
	for _, p := range [2][2]*ImageHash{{a, b}, {b, a}} {
		x, y := p[0], p[1]
		for _, i := range shiftScales {
			h := x.Scales[2*i]
			for _, g := range y.Grid {
				d = min(d, Hamming(h, g))
			}
		}
	}
	return d
}

// shiftScales are the centred regions compared with shifted windows.
var shiftScales = [...]int{1, 2}

// SameImage is the robust image rule as the stock-photo count uses it: two
// images are the same photo when RobustDistance is within
// MaxRobustDistance. detail says which regions matched, for the evidence.
func SameImage(a, b *ImageHash) (ok bool, detail string) {
	d, detail := RobustDistance(a, b)
	return d <= MaxRobustDistance, detail
}

// sameImage is SameImage without the evidence text, for the index lookup
// and the stock marks (ImagesMatch): the shifted windows are compared only
// when no centred regions match.
func sameImage(a, b *ImageHash) bool {
	if d, _, _ := ScaleDistance(a, b); d <= MaxRobustDistance {
		return true
	}
	return ShiftDistance(a, b) <= MaxRobustDistance
}

// RobustDistance is the least distance over the hash pairs the robust
// rule compares: centred regions at the same or neighbouring scales
// (ScaleDistance) and centred regions against shifted windows
// (ShiftDistance), with the evidence text of that distance (the centres
// on a tie). It is NoDistance when either image lacks the robust hashes.
// It is symmetric.
func RobustDistance(a, b *ImageHash) (d int, detail string) {
	d, sa, sb := ScaleDistance(a, b)
	if s := ShiftDistance(a, b); s < d {
		return s, fmt.Sprintf("image shifted-window distance %d", s)
	}
	return d, fmt.Sprintf("image centre distance %d (centres %d%%/%d%%)", d, scalePercent[max(sa, 0)], scalePercent[max(sb, 0)])
}
