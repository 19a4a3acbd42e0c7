//! The engine's one sorting routine. The standard library's sort is large when compiled, and
//! it is compiled again for every element type and comparator; sorting indices with a
//! comparator behind `dyn` compiles it once. This matters in the Wasm every shopper downloads.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// Stable sort of indices by `cmp`.
pub(crate) fn sort_indices(v: &mut [usize], cmp: &dyn Fn(usize, usize) -> Ordering) {
    v.sort_by(|a, b| cmp(*a, *b));
}

/// Stable sort of any vector by `cmp`, through [`sort_indices`]. Public for the storefront,
/// whose code ships in the same Wasm: its sorts go through this one too.
pub fn sort_vec<T>(v: &mut Vec<T>, cmp: &dyn Fn(&T, &T) -> Ordering) {
    let mut order: Vec<usize> = (0..v.len()).collect();
    sort_indices(&mut order, &|a, b| cmp(&v[a], &v[b]));
    let mut slots: Vec<Option<T>> = v.drain(..).map(Some).collect();
    v.extend(order.into_iter().filter_map(|i| slots[i].take()));
}

/// The distinct values of `items` (each below `n`), ascending: marked in a table of `n`, so
/// many repeats cost no sort.
pub(crate) fn ascending_unique(n: usize, items: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut marked = vec![false; n];
    items.for_each(|i| marked[i] = true);
    (0..n).filter(|&i| marked[i]).collect()
}

/// (distance, location) pairs nearest first, ties by location, taken lazily from a heap:
/// building it is linear and each pair taken costs a logarithm, so listing the nearest ten of
/// three hundred stores costs far less than sorting them all.
pub(crate) fn nearest_first(pairs: Vec<(u32, usize)>) -> impl Iterator<Item = (u32, usize)> {
    let mut heap: BinaryHeap<Reverse<(u32, usize)>> =
        BinaryHeap::from(pairs.into_iter().map(Reverse).collect::<Vec<_>>());
    std::iter::from_fn(move || heap.pop().map(|Reverse(pair)| pair))
}

#[cfg(test)]
mod tests {
    #[test]
    fn lists_nearest_first() {
        let pairs = vec![(30, 1), (10, 4), (20, 0), (10, 2), (5, 9)];
        let mut sorted = pairs.clone();
        sorted.sort();
        assert_eq!(super::nearest_first(pairs).collect::<Vec<_>>(), sorted);
    }

    #[test]
    fn sorts_stably() {
        let mut v = vec![(2, 'a'), (1, 'b'), (2, 'c'), (0, 'd')];
        super::sort_vec(&mut v, &|x, y| x.0.cmp(&y.0));
        assert_eq!(v, vec![(0, 'd'), (1, 'b'), (2, 'a'), (2, 'c')]);
    }
}
