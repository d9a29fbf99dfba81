package synthetic_test

import (
	"testing"

	"adcensus/internal/synthetic"
)

func TestUnionFind(t *testing.T) {
	u := synthetic.NewUnionFind(6)
	u.Union(4, 2)
	u.Union(5, 4)
	u.Union(3, 1)
	for i, want := range []int{0, 1, 2, 1, 2, 2} {
		if got := u.Find(i); got != want {
			t.Errorf("Find(%d) = %d, want %d", i, got, want)
		}
	}
	u.Union(5, 3)
	for i := 1; i < 6; i++ {
		if got, want := u.Find(i), 1; got != want {
			t.Errorf("after joining all: Find(%d) = %d, want %d", i, got, want)
		}
	}
}
