package main

import (
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// TestGraphsIntegration runs scripts/graphs in its short mode (a real
// collectd, the plugin and the simulated hub) and checks that each PNG is a
// valid image with the series drawn in it.
func TestGraphsIntegration(t *testing.T) {
	parallel(t)
	testhub.Integration(t)
	out := t.TempDir()
	cmd := exec.Command("bash", "../../scripts/graphs", "--short", "--out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/graphs --short: %v\n%s", err, b)
	}
	for name, colours := range map[string][]uint32{
		// the line colours of the hashing and notifications consumers in
		// the script (badges keeps up: its line lies on the axis)
		"backlog.png":     {0xef6c00, 0x1565c0},
		"wait.png":        {0xef6c00, 0x1565c0},
		"collection3.png": {0x0000ff}, // collection3's default line colour
	} {
		f, err := os.Open(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: not a PNG: %v", name, err)
			continue
		}
		if b := img.Bounds(); b.Dx() < 300 || b.Dy() < 100 {
			t.Errorf("%s: %dx%d", name, b.Dx(), b.Dy())
		}
		for _, c := range colours {
			// The legend swatch alone is about 100 pixels; a drawn series
			// adds many more.
			if n := countColour(img, c); n < 150 {
				t.Errorf("%s: %d pixels of #%06x, the series is not drawn", name, n, c)
			}
		}
	}
}

func countColour(img image.Image, rgb uint32) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 == rgb>>16&0xff && g>>8 == rgb>>8&0xff && bl>>8 == rgb&0xff {
				n++
			}
		}
	}
	return n
}
