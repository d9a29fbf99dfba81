package overlap

import "slices"

// PersonArenas returns the arenas person advertised on, sorted; nil for a
// person not seen (for tests).
func (c *Collector) PersonArenas(person string) []string {
	set := c.persons[person]
	if set == nil {
		return nil
	}
	out := make([]string, len(set))
	for i, a := range set {
		out[i] = c.arenas[a]
	}
	slices.Sort(out)
	return out
}
