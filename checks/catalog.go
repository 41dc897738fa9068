package checks

import (
	"sort"
	"strings"
)

// Catalog is the list of watched services with name resolution.
type Catalog struct {
	services []Service
	byName   map[string]int // lower-case id and aliases -> index
}

// NewCatalog indexes services by id and alias, case-insensitively. Names are
// assumed unique (config validation checks that).
func NewCatalog(services []Service) *Catalog {
	c := &Catalog{services: services, byName: make(map[string]int)}
	for i, s := range services {
		c.byName[strings.ToLower(s.ID)] = i
		for _, a := range s.Aliases {
			c.byName[strings.ToLower(a)] = i
		}
	}
	return c
}

// Services returns the services in catalog order. The slice must not be modified.
func (c *Catalog) Services() []Service { return c.services }

// IDs returns every service id in catalog order.
func (c *Catalog) IDs() []string {
	ids := make([]string, len(c.services))
	for i, s := range c.services {
		ids[i] = s.ID
	}
	return ids
}

// Lookup resolves an id or alias, ignoring case and surrounding space.
func (c *Catalog) Lookup(name string) (Service, bool) {
	i, ok := c.byName[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Service{}, false
	}
	return c.services[i], true
}

// Nearest returns the service id whose id or alias is closest to name by
// edit distance, if the distance is small enough to be a plausible typo.
func (c *Catalog) Nearest(name string) (string, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	names := make([]string, 0, len(c.byName))
	for n := range c.byName {
		names = append(names, n)
	}
	sort.Strings(names) // deterministic among ties
	best, bestD := "", -1
	for _, n := range names {
		d := editDistance(name, n)
		if bestD < 0 || d < bestD {
			best, bestD = n, d
		}
	}
	// Allow roughly one typo per three letters, at least one.
	if bestD < 0 || bestD > max(1, len([]rune(name))/3) {
		return "", false
	}
	return c.services[c.byName[best]].ID, true
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
