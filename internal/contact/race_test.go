//go:build race

package contact_test

// raceEnabled makes the slow tests smaller under the race detector.
const raceEnabled = true
