package eval

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestWriteText(t *testing.T) {
	class := strings.Split("x x x x x o x o o o o d x x d d d", " ")
	cluster := strings.Split("1 1 1 1 1 1 2 2 2 2 2 2 3 3 3 3 3", " ")
	truth := assign(class, class)
	pred := assign(cluster, nil)
	delete(pred, "a0")
	pred["b1"] = Labels{Person: "1"}
	rep := mustEvaluate(t, truth, pred)
	var sb strings.Builder
	if err := rep.WriteText(&sb); err != nil {
		t.Fatal(err)
	}
	out := sb.String()
	t.Log("\n" + out)
	for _, want := range []string{
		"adverts evaluated:", "17",
		"missing in prediction: 1 (scored as singletons): a0",
		"extra in prediction: 1 (ignored): b1",
		"persons", "networks", "skipped",
		"count error (pred-true)", "+1 (+33.3%)",
		"pairwise precision", "B-cubed F1", "adjusted Rand index",
		"networks skipped: prediction has no network_id labels",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}

	rep = mustEvaluate(t, truth, assign(cluster, cluster))
	sb.Reset()
	if err := rep.WriteText(&sb); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + sb.String())
	if strings.Contains(sb.String(), "skipped") {
		t.Errorf("networks present but output says skipped:\n%s", sb.String())
	}
	// B-cubed precision 149/255 at both levels.
	if !slices.ContainsFunc(strings.Split(sb.String(), "\n"), func(line string) bool {
		return strings.Join(strings.Fields(line), " ") == "B-cubed precision 0.5843 0.5843"
	}) {
		t.Errorf("output lacks B-cubed precision for both levels:\n%s", sb.String())
	}
}

func TestSample(t *testing.T) {
	if got := sample([]string{"a", "b", "c", "d", "e", "f"}); got != ": a, b, c, d, e, …" {
		t.Errorf("sample = %q", got)
	}
}

type failWriter struct{}

var errWrite = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestWriteTextError(t *testing.T) {
	rep := mustEvaluate(t, assign(truth321, nil), assign(truth321, nil))
	if err := rep.WriteText(failWriter{}); !errors.Is(err, errWrite) {
		t.Errorf("err = %v, want %v", err, errWrite)
	}
}
