//! One small in-place heapsort for the runtime's few sorts (table index
//! building, key and name checks while loading, a key's instants): the
//! standard library's sorts are faster on large inputs but each instance
//! costs 1.2 to 2.2 KB of code, and a terminal links seven of them
//! (BENCHMARKS.md, "Code size and memory"). The runtime sorts at load time
//! and a few instants per key while deciding; O(n log n) without
//! allocation is what it needs.

/// Sorts `v` so that no element is `less` than the one before it. Not
/// stable: give `less` a total order (ties broken by something unique)
/// where the order of equal elements matters.
pub fn sort_by<T>(v: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    let n = v.len();
    let mut start = n / 2;
    while start > 0 {
        start -= 1;
        sift_down(v, start, n, &mut less);
    }
    let mut end = n;
    while end > 1 {
        end -= 1;
        v.swap(0, end);
        sift_down(v, 0, end, &mut less);
    }
}

/// [`sort_by`] in ascending order.
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, |a, b| a < b);
}

/// Sorts `v` in ascending order, keeping equal elements in their order
/// (what `dedup` keeps afterwards can then depend on it).
pub fn sort_stable<T: Ord>(v: &mut alloc::vec::Vec<T>) {
    let mut order: alloc::vec::Vec<usize> = (0..v.len()).collect();
    sort_by(&mut order, |&a, &b| match (v.get(a), v.get(b)) {
        (Some(x), Some(y)) => x < y || (x == y && a < b),
        _ => a < b,
    });
    let mut taken: alloc::vec::Vec<Option<T>> = v.drain(..).map(Some).collect();
    v.extend(
        order
            .iter()
            .filter_map(|&i| taken.get_mut(i).and_then(Option::take)),
    );
}

/// Moves `v[root]` down the heap `v[..end]` to where it belongs.
fn sift_down<T>(v: &mut [T], mut root: usize, end: usize, less: &mut impl FnMut(&T, &T) -> bool) {
    loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && is_less(v, child, child + 1, less) {
            child += 1;
        }
        if !is_less(v, root, child, less) {
            return;
        }
        v.swap(root, child);
        root = child;
    }
}

fn is_less<T>(v: &[T], a: usize, b: usize, less: &mut impl FnMut(&T, &T) -> bool) -> bool {
    match (v.get(a), v.get(b)) {
        (Some(x), Some(y)) => less(x, y),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn sorts_like_the_standard_library() {
        let mut x: u64 = 7;
        for n in 0..300usize {
            let mut v: Vec<u64> = (0..n)
                .map(|_| {
                    x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    (x >> 33) % 50
                })
                .collect();
            let mut want = v.clone();
            want.sort();
            let mut stable = v.clone();
            sort(&mut v);
            assert_eq!(v, want, "{n}");
            sort_stable(&mut stable);
            assert_eq!(stable, want, "{n}");
        }
    }

    #[test]
    fn the_stable_sort_keeps_equal_elements_in_order() {
        let d = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
        let mut v = alloc::vec![d("2.0"), d("1.00"), d("2"), d("1.0"), d("0.5")];
        let mut want = v.clone();
        want.sort();
        sort_stable(&mut v);
        let scales = |v: &[rust_decimal::Decimal]| v.iter().map(|x| x.scale()).collect::<Vec<_>>();
        assert_eq!(scales(&v), scales(&want));
        assert_eq!(v, want);
    }
}
