package synthetic

// UnionFind is a union-find (disjoint-set forest) over the integers
// 0…n-1. The root of a set is its smallest member, so the root names a set
// the same way whatever the order of the unions.
type UnionFind struct{ parent []int }

// NewUnionFind returns n sets of one member each.
func NewUnionFind(n int) *UnionFind {
	u := &UnionFind{parent: make([]int, n)}
	for i := range u.parent {
		u.parent[i] = i
	}
	return u
}

// Find returns the root of i's set: its smallest member.
func (u *UnionFind) Find(i int) int {
	for u.parent[i] != i {
		u.parent[i] = u.parent[u.parent[i]] // path halving
		i = u.parent[i]
	}
	return i
}

// Union joins the sets of a and b.
func (u *UnionFind) Union(a, b int) {
	ra, rb := u.Find(a), u.Find(b)
	switch {
	case ra < rb:
		u.parent[rb] = ra
	case rb < ra:
		u.parent[ra] = rb
	}
}
