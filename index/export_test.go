package index

// Persons returns the number of distinct persons added (for tests).
func (f *FactsDistribution) Persons() int { return len(f.persons) }
