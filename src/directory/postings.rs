//! Posting lists: for each (attribute, lower-cased value), the slots of the selectable people
//! holding it, sorted by rank (a slot's place in `iam_id` order).
//!
//! Invariants: a list holds a slot at most once and is sorted by `ranks[slot]`; an emptied
//! list is dropped, so a present list is never empty. Ranks only ever change in an
//! order-preserving way, so a sorted list stays sorted without being touched.

use std::collections::HashMap;

use super::Attribute;

/// An indexed (attribute, lower-cased value) pair.
pub(super) type Key = (Attribute, String);

/// The lists of every indexed key.
#[derive(Default)]
pub(super) struct Postings {
    lists: HashMap<Attribute, HashMap<String, Vec<u32>>>,
}

impl Postings {
    /// The slots holding `value` (lower-cased already), if anyone does.
    pub fn list(&self, attribute: Attribute, value: &str) -> Option<&[u32]> {
        self.lists.get(&attribute)?.get(value).map(Vec::as_slice)
    }

    pub fn insert(&mut self, (attribute, value): &Key, slot: u32, ranks: &[u64]) {
        let values = self.lists.entry(*attribute).or_default();
        match values.get_mut(value) {
            Some(list) => insert_sorted(list, slot, ranks),
            None => {
                values.insert(value.clone(), vec![slot]);
            }
        }
    }

    pub fn remove(&mut self, (attribute, value): &Key, slot: u32, ranks: &[u64]) {
        let Some(values) = self.lists.get_mut(attribute) else {
            return;
        };
        let Some(list) = values.get_mut(value) else {
            return;
        };

        remove_sorted(list, slot, ranks);

        if list.is_empty() {
            values.remove(value);
        }
    }

    /// Every key and its list, for tests comparing two indexes.
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = (Attribute, &str, &[u32])> {
        self.lists.iter().flat_map(|(attribute, values)| {
            values
                .iter()
                .map(|(value, list)| (*attribute, value.as_str(), list.as_slice()))
        })
    }
}

/// Where a slot of `rank` belongs in a rank-sorted list.
fn position(list: &[u32], rank: u64, ranks: &[u64]) -> usize {
    list.partition_point(|&other| ranks[other as usize] < rank)
}

/// Where a slot of `rank` belongs, found by galloping from the start: cheap when it belongs
/// near the start, as it does when a list is walked in rank order.
fn gallop(list: &[u32], rank: u64, ranks: &[u64]) -> usize {
    let mut bound = 1;
    while bound <= list.len() && ranks[list[bound - 1] as usize] < rank {
        bound *= 2;
    }

    // Everything before `start` ranks below; the place is at most `end`.
    let start = bound / 2;
    let end = bound.min(list.len());
    start + position(&list[start..end], rank, ranks)
}

/// Adds `slot` to a rank-sorted list; nothing when it is there already.
pub(super) fn insert_sorted(list: &mut Vec<u32>, slot: u32, ranks: &[u64]) {
    let rank = ranks[slot as usize];
    if list.last().is_none_or(|&last| ranks[last as usize] < rank) {
        // Building in rank order: every slot joins the end.
        list.push(slot);
        return;
    }
    let at = position(list, rank, ranks);
    if list.get(at) != Some(&slot) {
        list.insert(at, slot);
    }
}

/// Takes `slot` out of a rank-sorted list; whether it was there.
pub(super) fn remove_sorted(list: &mut Vec<u32>, slot: u32, ranks: &[u64]) -> bool {
    let at = position(list, ranks[slot as usize], ranks);
    let found = list.get(at) == Some(&slot);
    if found {
        list.remove(at);
    }
    found
}

/// The slots present in every list, in rank order. The smallest list drives; each slot is
/// looked up in the next larger list by galloping over what is left of it, so the cost is
/// about `smallest × log(other / smallest)` per list and the result only shrinks.
pub(super) fn intersect(mut lists: Vec<&[u32]>, ranks: &[u64]) -> Vec<u32> {
    lists.sort_by_key(|list| list.len());
    let Some((smallest, others)) = lists.split_first() else {
        return Vec::new();
    };

    let mut result = smallest.to_vec();
    for list in others {
        let mut rest: &[u32] = list;
        result.retain(|&slot| {
            rest = &rest[gallop(rest, ranks[slot as usize], ranks)..];
            rest.first() == Some(&slot)
        });

        if result.is_empty() {
            break;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intersections_keep_rank_order_and_only_common_slots() {
        // Slot 3 ranks first, then 0, 2, 1, 4.
        let ranks = [20, 40, 30, 10, 50];
        let cases: [(&[&[u32]], &[u32]); 5] = [
            (&[&[3, 0, 2, 1, 4], &[0, 1]], &[0, 1]),
            (&[&[3, 2, 4], &[3, 0, 2, 1, 4], &[2, 4]], &[2, 4]),
            (&[&[3], &[0, 1]], &[]),
            (&[&[3, 0, 1]], &[3, 0, 1]),
            (&[], &[]),
        ];

        for (lists, expected) in cases {
            assert_eq!(intersect(lists.to_vec(), &ranks), expected, "{lists:?}");
        }
    }

    #[test]
    fn galloping_agrees_with_a_plain_filter_on_long_lists() {
        // Ranks run backwards from slot numbers, so rank order is not slot order.
        let ranks: Vec<u64> = (0..1000).map(|slot| 5000 - slot * 5).collect();
        let by_rank = |step: u32| -> Vec<u32> { (0..1000).rev().step_by(step as usize).collect() };
        let cases = [(3, 7), (1, 2), (2, 999), (50, 51), (999, 1)];

        for (a, b) in cases {
            let (left, right) = (by_rank(a), by_rank(b));
            let expected: Vec<u32> = left.iter().copied().filter(|s| right.contains(s)).collect();

            assert_eq!(intersect(vec![&left, &right], &ranks), expected, "{a} {b}");
            for slot in [0, 1, 499, 999] {
                let at = gallop(&left, ranks[slot], &ranks);
                assert_eq!(at, position(&left, ranks[slot], &ranks), "{a} {slot}");
            }
        }
    }

    #[test]
    fn sorted_lists_take_each_slot_once_and_drop_emptied_keys() {
        let ranks = [20, 40, 30, 10];
        let key = (Attribute::Location, "oslo".to_string());
        let mut postings = Postings::default();

        for slot in [1, 3, 0, 3, 2] {
            postings.insert(&key, slot, &ranks);
        }
        assert_eq!(
            postings.list(Attribute::Location, "oslo"),
            Some(&[3, 0, 2, 1][..])
        );

        for slot in [0, 1, 2, 3] {
            postings.remove(&key, slot, &ranks);
        }
        assert_eq!(postings.list(Attribute::Location, "oslo"), None);
        assert_eq!(postings.iter().count(), 0);
    }
}
