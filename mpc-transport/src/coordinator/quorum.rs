//! Quorum choice: the first subset of the candidates (in index order) not tried yet.

use mpc_core::PartyIndex;

/// The first `t`-subset of `candidates` (lexicographic order) not in `tried`.
pub(super) fn first_untried(
    candidates: &[PartyIndex],
    t: usize,
    tried: &[Vec<PartyIndex>],
) -> Option<Vec<PartyIndex>> {
    if t == 0 || candidates.len() < t {
        return None;
    }
    let mut idx: Vec<usize> = (0..t).collect();
    loop {
        let q: Vec<PartyIndex> = idx
            .iter()
            .filter_map(|&i| candidates.get(i).copied())
            .collect();
        if !tried.contains(&q) {
            return Some(q);
        }
        // Next combination.
        let n = candidates.len();
        let mut i = t;
        loop {
            if i == 0 {
                return None;
            }
            i -= 1;
            let limit = n - t + i;
            if idx.get(i).is_some_and(|&v| v < limit) {
                break;
            }
        }
        let base = idx.get(i).copied()?;
        for (k, slot) in idx.iter_mut().enumerate().skip(i) {
            *slot = base + 1 + (k - i);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::first_untried;

    #[test]
    fn quorums_in_order_skipping_tried() {
        let c = [0u16, 1, 2, 3];
        assert_eq!(first_untried(&c, 2, &[]), Some(vec![0, 1]));
        assert_eq!(first_untried(&c, 2, &[vec![0, 1]]), Some(vec![0, 2]));
        let all: Vec<Vec<u16>> = vec![
            vec![0, 1],
            vec![0, 2],
            vec![0, 3],
            vec![1, 2],
            vec![1, 3],
            vec![2, 3],
        ];
        assert_eq!(first_untried(&c, 2, &all[..5]), Some(vec![2, 3]));
        assert_eq!(first_untried(&c, 2, &all), None);
        assert_eq!(first_untried(&c, 5, &[]), None);
        assert_eq!(first_untried(&c, 0, &[]), None);
    }
}
