//! The directory's storage and index: people in dense slots, posting lists over the slots,
//! and a rank per slot that orders slots as their `iam_id`s are ordered.
//!
//! Invariants: `ids` maps every kept `iam_id` to its occupied slot, and a slot freed by a
//! removal is reused; ranks strictly increase with `iam_id` (a newcomer takes a rank between
//! its neighbours', and when there is no room left every rank is laid out again in order);
//! a slot is in `selectable`, in `postings` under exactly its entry's keys, and nowhere else,
//! while its entry is selectable; every slot with an account is under it in `accounts`.

use std::{
    collections::{BTreeMap, HashMap},
    ops::Bound,
};

use super::{
    normalise,
    postings::{insert_sorted, intersect, remove_sorted, Key, Postings},
    Attribute, Condition, Person,
};
use crate::{rules::Identity, store::IdentityRecord};

/// The distance between consecutive ranks when they are laid out.
const SPACING: u64 = 1 << 24;

/// A kept person and what the index holds for them.
struct Entry {
    person: Person,
    event_time: i64,
    selectable: bool,
    /// The keys the slot is indexed under (none when not selectable); sorted, no repeats.
    keys: Vec<Key>,
}

/// Every identity on record, with the active ones indexed for [`Directory::select`].
#[derive(Default)]
pub struct Directory {
    entries: Vec<Option<Entry>>,
    ranks: Vec<u64>,
    free: Vec<u32>,
    ids: BTreeMap<String, u32>,
    accounts: HashMap<u64, Vec<u32>>,
    postings: Postings,
    selectable: Vec<u32>,
}

impl Directory {
    /// A directory of `records`; a later record of the same `iam_id` wins.
    pub fn from_records(records: impl IntoIterator<Item = IdentityRecord>) -> Directory {
        let mut sorted: Vec<IdentityRecord> = records.into_iter().collect();
        sorted.sort_by(|a, b| a.iam_id.cmp(&b.iam_id));
        let last_of_each = |(at, record): &(usize, &IdentityRecord)| {
            sorted
                .get(at + 1)
                .is_none_or(|next| next.iam_id != record.iam_id)
        };
        let kept: Vec<&IdentityRecord> = sorted
            .iter()
            .enumerate()
            .filter(last_of_each)
            .map(|(_, record)| record)
            .collect();

        let mut directory = Directory {
            entries: Vec::with_capacity(kept.len()),
            ranks: Vec::with_capacity(kept.len()),
            ..Directory::default()
        };
        // In `iam_id` order, so every slot ranks after the ones before it and joins the end of
        // its lists.
        for record in &kept {
            let slot = directory.entries.len() as u32;
            directory.entries.push(Some(entry_of(record)));
            directory.ranks.push(u64::from(slot) * SPACING + SPACING);
            directory.index(slot);
        }
        // Built from sorted keys in one pass.
        directory.ids = kept
            .iter()
            .enumerate()
            .map(|(slot, record)| (record.iam_id.clone(), slot as u32))
            .collect();
        directory
    }

    /// Adds the person of `record`, or replaces what was kept of them, and re-indexes them.
    pub fn upsert(&mut self, record: &IdentityRecord) {
        let slot = match self.ids.get(&record.iam_id) {
            Some(&slot) => {
                self.unindex(slot);
                self.entries[slot as usize] = Some(entry_of(record));
                slot
            }
            None => {
                let slot = self.allocate(entry_of(record));
                self.ids.insert(record.iam_id.clone(), slot);
                self.rank_newcomer(&record.iam_id, slot);
                slot
            }
        };

        self.index(slot);
    }

    pub fn remove(&mut self, iam_id: &str) {
        let Some(slot) = self.ids.remove(iam_id) else {
            return;
        };

        self.unindex(slot);
        self.entries[slot as usize] = None;
        self.free.push(slot);
    }

    pub fn get(&self, iam_id: &str) -> Option<&Person> {
        self.ids.get(iam_id).and_then(|&slot| self.person(slot))
    }

    /// The person linked to a ClickUp account; when several identities are, the one whose
    /// latest event is newest (as `Store::identity_by_clickup_user` answers).
    pub fn by_clickup_user(&self, user_id: u64) -> Option<&Person> {
        self.accounts
            .get(&user_id)?
            .iter()
            .filter_map(|&slot| self.entry(slot))
            .max_by_key(|entry| entry.event_time)
            .map(|entry| &entry.person)
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Active people (status "active", identity readable, a ClickUp account) meeting every
    /// condition (AND; `Group`/`Role` mean "has the group/role"), in iam_id order.
    pub fn select(&self, conditions: &[Condition]) -> Vec<&Person> {
        if conditions.is_empty() {
            return self.active().collect();
        }

        let mut lists = Vec::with_capacity(conditions.len());
        for condition in conditions {
            match self
                .postings
                .list(condition.attribute, &normalise(&condition.value))
            {
                Some(list) => lists.push(list),
                None => return Vec::new(),
            }
        }

        intersect(lists, &self.ranks)
            .into_iter()
            .filter_map(|slot| self.person(slot))
            .collect()
    }

    /// Everyone `select` would consider with no condition (for explanations).
    pub fn active(&self) -> impl Iterator<Item = &Person> {
        self.selectable.iter().filter_map(|&slot| self.person(slot))
    }

    fn entry(&self, slot: u32) -> Option<&Entry> {
        self.entries.get(slot as usize)?.as_ref()
    }

    fn person(&self, slot: u32) -> Option<&Person> {
        self.entry(slot).map(|entry| &entry.person)
    }

    /// A slot for a new entry: a freed one, or a new one at the end.
    fn allocate(&mut self, entry: Entry) -> u32 {
        match self.free.pop() {
            Some(slot) => {
                self.entries[slot as usize] = Some(entry);
                slot
            }
            None => {
                self.entries.push(Some(entry));
                self.ranks.push(0);
                (self.entries.len() - 1) as u32
            }
        }
    }

    /// Gives a slot just added to `ids` a rank between its neighbours'.
    fn rank_newcomer(&mut self, iam_id: &str, slot: u32) {
        let before = self
            .ids
            .range::<str, _>((Bound::Unbounded, Bound::Excluded(iam_id)))
            .next_back();
        let after = self
            .ids
            .range::<str, _>((Bound::Excluded(iam_id), Bound::Unbounded))
            .next();
        let below = before.map(|(_, &other)| self.ranks[other as usize]);
        let above = after.map(|(_, &other)| self.ranks[other as usize]);

        match rank_between(below, above) {
            Some(rank) => self.ranks[slot as usize] = rank,
            None => self.relabel(),
        }
    }

    /// Lays every rank out again, `SPACING` apart, in `iam_id` order. Order is kept, so the
    /// sorted lists stay sorted.
    fn relabel(&mut self) {
        for (place, &slot) in self.ids.values().enumerate() {
            self.ranks[slot as usize] = place as u64 * SPACING + SPACING;
        }
    }

    fn index(&mut self, slot: u32) {
        let Some(entry) = self.entries[slot as usize].as_ref() else {
            return;
        };

        if entry.person.clickup_user_id != 0 {
            self.accounts
                .entry(entry.person.clickup_user_id)
                .or_default()
                .push(slot);
        }
        if entry.selectable {
            insert_sorted(&mut self.selectable, slot, &self.ranks);
            for key in &entry.keys {
                self.postings.insert(key, slot, &self.ranks);
            }
        }
    }

    fn unindex(&mut self, slot: u32) {
        let Some(entry) = self.entries[slot as usize].as_ref() else {
            return;
        };

        let account = entry.person.clickup_user_id;
        if let Some(slots) = self.accounts.get_mut(&account) {
            slots.retain(|&other| other != slot);
            if slots.is_empty() {
                self.accounts.remove(&account);
            }
        }
        if entry.selectable {
            remove_sorted(&mut self.selectable, slot, &self.ranks);
            for key in &entry.keys {
                self.postings.remove(key, slot, &self.ranks);
            }
        }
    }

    /// The index as `iam_id`s: every key with its people, the selectable people, and every
    /// account with its identities; two directories of the same people compare equal.
    #[cfg(test)]
    pub(super) fn index_snapshot(&self) -> IndexSnapshot {
        let ids = |slots: &[u32]| -> Vec<String> {
            slots
                .iter()
                .filter_map(|&slot| self.person(slot))
                .map(|person| person.iam_id.clone())
                .collect()
        };
        let mut accounts: BTreeMap<u64, Vec<String>> = self
            .accounts
            .iter()
            .map(|(account, slots)| (*account, ids(slots)))
            .collect();
        accounts.values_mut().for_each(|people| people.sort());
        IndexSnapshot {
            postings: self
                .postings
                .iter()
                .map(|(attribute, value, slots)| ((attribute, value.to_string()), ids(slots)))
                .collect(),
            selectable: ids(&self.selectable),
            accounts,
        }
    }
}

#[cfg(test)]
#[derive(Debug, PartialEq, Eq)]
pub(super) struct IndexSnapshot {
    pub postings: BTreeMap<Key, Vec<String>>,
    pub selectable: Vec<String>,
    pub accounts: BTreeMap<u64, Vec<String>>,
}

/// A rank strictly between `below` and `above` (either may be missing), if there is room.
fn rank_between(below: Option<u64>, above: Option<u64>) -> Option<u64> {
    match (below, above) {
        (None, None) => Some(SPACING),
        (Some(below), None) => below.checked_add(SPACING),
        (None, Some(above)) => (above > 0).then_some(above / 2),
        (Some(below), Some(above)) => {
            (above.saturating_sub(below) >= 2).then_some(below + (above - below) / 2)
        }
    }
}

/// What the directory keeps of a record: selectable when the status on record is active, the
/// attributes are readable and a ClickUp account is linked.
fn entry_of(record: &IdentityRecord) -> Entry {
    let account = record
        .clickup_user_id
        .and_then(|id| u64::try_from(id).ok())
        .filter(|&id| id != 0);
    let read = Identity::from_iam_user(&record.attributes);
    let selectable =
        read.is_ok() && account.is_some() && record.status.trim().eq_ignore_ascii_case("active");

    let identity = read.unwrap_or_else(|_| Identity {
        id: record.iam_id.clone(),
        status: record.status.to_lowercase(),
        ..Identity::default()
    });
    let keys = match selectable {
        true => keys(&identity),
        false => Vec::new(),
    };

    Entry {
        person: Person {
            iam_id: record.iam_id.clone(),
            clickup_user_id: account.unwrap_or(0),
            identity,
        },
        event_time: record.event_time,
        selectable,
        keys,
    }
}

/// Every (attribute, lower-cased value) the identity holds.
fn keys(identity: &Identity) -> Vec<Key> {
    let mut keys: Vec<Key> = Attribute::ALL
        .into_iter()
        .flat_map(|attribute| {
            attribute
                .values(identity)
                .into_iter()
                .map(move |value| (attribute, normalise(value)))
        })
        .filter(|(_, value)| !value.is_empty())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}
