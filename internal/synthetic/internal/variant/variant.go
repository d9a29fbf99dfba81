// Package variant makes the re-encoded photo variants that the nattlinjen
// demo arena serves: the same photo, slightly smaller, slightly brighter and
// compressed at another JPEG quality, as a re-uploaded advert photo would be.
// It is shared by the demo arenas and by tilegen, which keeps only tiles
// whose hash survives the variant. Fixture code, not product code.
package variant

import (
	"bytes"
	"image"
	"image/jpeg"

	"golang.org/x/image/draw"
)

// Scale, Brighten and Quality describe the variant: width and height are
// multiplied by Scale, every colour channel v becomes v + (255-v)*Brighten,
// and the result is encoded as JPEG at Quality.
const (
	Scale    = 0.9
	Brighten = 0.08
	Quality  = 68
)

// Image returns the variant of img, not yet encoded.
func Image(img image.Image) *image.RGBA {
	b := img.Bounds()
	w, h := int(float64(b.Dx())*Scale+0.5), int(float64(b.Dy())*Scale+0.5)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	for i := 0; i < len(dst.Pix); i += 4 {
		for c := 0; c < 3; c++ {
			v := float64(dst.Pix[i+c])
			dst.Pix[i+c] = uint8(v + (255-v)*Brighten + 0.5)
		}
	}
	return dst
}

// JPEG decodes a JPEG photo and returns its variant, encoded as JPEG.
func JPEG(data []byte) ([]byte, error) {
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, Image(img), &jpeg.Options{Quality: Quality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
