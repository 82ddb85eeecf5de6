//! Stable entry ids.
//!
//! The key of an entry is, in order: its guid (RSS `guid`, Atom `id`,
//! RSS 1.0 `rdf:about`, JSON Feed `id`), else its link, else a hash of its
//! title and date (of its summary or content when it has no title).
//!
//! A key is only used when it tells the entry apart within the document: a
//! guid that is blank, or that several *different* entries share (feeds
//! that put the site URL or a constant in every `guid`), is skipped for
//! those entries and the next key is tried, so distinct entries are never
//! merged. Entries sharing a key that are copies of each other (same link,
//! title, summary and content) keep it — they are one entry listed twice.
//!
//! The decision is made per entry, not for the whole feed: one item
//! without a guid does not change the ids of the others. Ids therefore
//! depend only on the entry itself and on which other entries collide with
//! it, never on randomness, the clock or the order of the entries.

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};

use super::Entry;

/// Gives every entry its stable id (see the module documentation).
pub fn assign_ids(entries: &mut [Entry]) {
    let mut done = vec![false; entries.len()];
    let mut used: HashSet<String> = HashSet::new();

    // 1. guids, 2. links.
    for stage in 0..2 {
        let key_of = |e: &Entry| -> Option<String> {
            let k = if stage == 0 {
                e.guid.as_deref()
            } else {
                e.link.as_deref()
            };
            k.map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_string)
        };
        let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            if !done[i]
                && let Some(k) = key_of(e)
            {
                groups.entry(k).or_default().push(i);
            }
        }
        let mut chosen: Vec<(usize, String)> = Vec::new();
        for (key, members) in groups {
            if used.contains(&key) {
                continue;
            }
            let first = &entries[members[0]];
            let all_same = members.iter().all(|&i| same_entry(&entries[i], first));
            if all_same {
                for &i in &members {
                    chosen.push((i, key.clone()));
                }
            }
        }
        for (i, key) in chosen {
            done[i] = true;
            used.insert(key.clone());
            entries[i].id = key;
        }
    }

    // 3. content hashes; a collision between different entries adds the
    //    summary and content to the hash of those entries.
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        if !done[i] {
            groups.entry(content_id(e, false)).or_default().push(i);
        }
    }
    for (key, members) in groups {
        let first = &entries[members[0]];
        let distinct =
            members.iter().any(|&i| !same_entry(&entries[i], first)) || used.contains(&key);
        for &i in &members {
            entries[i].id = if distinct {
                content_id(&entries[i], true)
            } else {
                key.clone()
            };
        }
    }
}

/// Two listings of the same entry.
fn same_entry(a: &Entry, b: &Entry) -> bool {
    a.link == b.link && a.title == b.title && a.summary == b.summary && a.content == b.content
}

/// A hash of what identifies an entry that has neither usable guid nor
/// link: title and date; without a title, the summary or content; `full`
/// adds summary and content in any case.
fn content_id(e: &Entry, full: bool) -> String {
    let mut h = Sha256::new();
    h.update(e.title.as_deref().unwrap_or("").as_bytes());
    h.update([0]);
    if let Some(d) = e.published.or(e.updated) {
        h.update(crate::timefmt::to_db(d).as_bytes());
    }
    h.update([0]);
    if full || e.title.is_none() {
        h.update(e.summary.as_deref().unwrap_or("").as_bytes());
        h.update([0]);
        h.update(e.content.as_deref().unwrap_or("").as_bytes());
    }
    format!("sha256:{}", hex::encode(&h.finalize()[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(guid: Option<&str>, link: Option<&str>, title: &str) -> Entry {
        Entry {
            guid: guid.map(str::to_string),
            link: link.map(str::to_string),
            title: Some(title.to_string()),
            ..Entry::default()
        }
    }

    fn ids(entries: &[Entry]) -> Vec<String> {
        let mut v = entries.to_vec();
        assign_ids(&mut v);
        v.into_iter().map(|e| e.id).collect()
    }

    #[test]
    fn guid_then_link_then_hash() {
        let v = ids(&[
            e(Some("g1"), Some("https://x/1"), "A"),
            e(None, Some("https://x/2"), "B"),
            e(Some("  "), None, "C"),
        ]);
        assert_eq!(v[0], "g1");
        assert_eq!(v[1], "https://x/2");
        assert!(v[2].starts_with("sha256:"));
    }

    #[test]
    fn repeated_guids_of_distinct_entries_fall_back() {
        let v = ids(&[
            e(Some("https://site/"), Some("https://x/1"), "A"),
            e(Some("https://site/"), Some("https://x/2"), "B"),
            e(Some("g3"), Some("https://x/3"), "C"),
        ]);
        assert_eq!(v, vec!["https://x/1", "https://x/2", "g3"]);
    }

    #[test]
    fn repeated_guids_and_links_fall_back_to_hashes() {
        let v = ids(&[
            e(Some("same"), Some("https://x/"), "A"),
            e(Some("same"), Some("https://x/"), "B"),
        ]);
        assert!(v[0].starts_with("sha256:") && v[1].starts_with("sha256:"));
        assert_ne!(v[0], v[1]);
    }

    #[test]
    fn duplicate_listing_keeps_its_guid() {
        let v = ids(&[
            e(Some("g"), Some("https://x/1"), "A"),
            e(Some("g"), Some("https://x/1"), "A"),
        ]);
        assert_eq!(v, vec!["g", "g"]);
    }

    #[test]
    fn independent_of_order_and_unrelated_entries() {
        let a = e(None, None, "Alpha");
        let b = e(None, Some("https://x/b"), "Beta");
        let c = e(Some("g"), None, "Gamma");
        let one = ids(&[a.clone(), b.clone(), c.clone()]);
        let two = ids(&[c.clone(), e(None, None, "New"), b.clone(), a.clone()]);
        assert_eq!(one[0], two[3]);
        assert_eq!(one[1], two[2]);
        assert_eq!(one[2], two[0]);
    }

    #[test]
    fn same_title_no_date_distinct_content() {
        let mut a = e(None, None, "Update");
        a.summary = Some("first".into());
        let mut b = e(None, None, "Update");
        b.summary = Some("second".into());
        let v = ids(&[a, b]);
        assert_ne!(v[0], v[1]);
    }
}
