//! The record schema two versions of a policy share: fields matched by
//! name, enum variants joined, and what each version refuses.

use tollgate_runtime::table::{Bound, Cell, FieldKind, FieldSpec, Interval, Table, Variants};

/// Both versions' fields, by name, with each version's index of it.
#[derive(Debug, Clone)]
pub struct Schema {
    /// The joined fields (new version's order, then fields only the old one has).
    pub fields: Vec<FieldSpec>,
    /// Per joined field, its index in the old table's schema.
    pub old: Vec<Option<usize>>,
    /// Per joined field, its index in the new table's schema.
    pub new: Vec<Option<usize>>,
    /// Changes to the schema, in words.
    pub notes: Vec<String>,
}

/// The side of a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// The old version.
    Old,
    /// The new version.
    New,
}

impl Schema {
    /// The joined schema of `old` and `new`.
    ///
    /// # Errors
    /// A message when a field has different types in the two versions.
    pub fn join(old: &Table, new: &Table) -> Result<Schema, String> {
        let mut fields: Vec<FieldSpec> = Vec::new();
        let (mut o, mut n) = (Vec::new(), Vec::new());
        let mut notes = Vec::new();
        for (i, f) in new.fields().iter().enumerate() {
            let before = old.fields().iter().position(|g| g.name == f.name);
            let mut joined = f.clone();
            match before.and_then(|j| old.fields().get(j)) {
                Some(g) => {
                    joined.kind = join_kind(&f.name, &g.kind, &f.kind, &mut notes)?;
                    joined.refunds = f.refunds || g.refunds;
                    if g.refunds != f.refunds {
                        notes.push(format!(
                            "field `{}` {} refunds",
                            f.name,
                            if f.refunds {
                                "now accepts"
                            } else {
                                "no longer accepts"
                            }
                        ));
                    }
                }
                None => notes.push(format!("field `{}` added", f.name)),
            }
            fields.push(joined);
            o.push(before);
            n.push(Some(i));
        }
        for (j, g) in old.fields().iter().enumerate() {
            if !new.fields().iter().any(|f| f.name == g.name) {
                notes.push(format!("field `{}` removed", g.name));
                fields.push(g.clone());
                o.push(Some(j));
                n.push(None);
            }
        }
        Ok(Schema {
            fields,
            old: o,
            new: n,
            notes,
        })
    }

    /// The joined index of `version`'s field `i`.
    pub fn joined(&self, version: Version, i: usize) -> Option<usize> {
        let map = match version {
            Version::Old => &self.old,
            Version::New => &self.new,
        };
        map.iter().position(|&x| x == Some(i))
    }

    /// `version`'s cell for column `i` of its own schema, over the joined
    /// field (enum variants renumbered).
    pub fn cell(&self, version: Version, table: &Table, i: usize, cell: &Cell) -> Cell {
        let Cell::Enum(set) = cell else {
            return cell.clone();
        };
        let (Some(FieldKind::Enum(own)), Some(FieldKind::Enum(all))) = (
            table.fields().get(i).map(|f| &f.kind),
            self.joined(version, i)
                .and_then(|j| self.fields.get(j))
                .map(|f| &f.kind),
        ) else {
            return cell.clone();
        };
        let ids: Vec<u32> = set
            .iter()
            .filter_map(|v| own.get(v as usize))
            .filter_map(|name| all.iter().position(|x| x == name))
            .map(|p| p as u32)
            .collect();
        variants(&ids, all.len())
    }

    /// What `version` refuses that the other accepts: per joined field, a
    /// cell of the values it refuses (variants it does not declare,
    /// amounts below zero when it takes no refunds).
    pub fn refused(&self, version: Version, table: &Table) -> Vec<(usize, Cell)> {
        let map = match version {
            Version::Old => &self.old,
            Version::New => &self.new,
        };
        let mut out = Vec::new();
        for (j, (f, own)) in self.fields.iter().zip(map).enumerate() {
            let Some(own) = own.and_then(|i| table.fields().get(i)) else {
                continue;
            };
            match (&f.kind, &own.kind) {
                (FieldKind::Enum(all), FieldKind::Enum(mine)) if all.len() > mine.len() => {
                    let ids: Vec<u32> = all
                        .iter()
                        .enumerate()
                        .filter(|(_, v)| !mine.contains(v))
                        .map(|(i, _)| i as u32)
                        .collect();
                    out.push((j, variants(&ids, all.len())));
                }
                (FieldKind::Money, FieldKind::Money) if f.refunds && !own.refunds => {
                    out.push((
                        j,
                        Cell::Range(Interval {
                            lo: Bound::Unbounded,
                            hi: Bound::Excl(rust_decimal::Decimal::ZERO),
                        }),
                    ));
                }
                _ => {}
            }
        }
        out
    }
}

/// The set of these variant ids, as a cell.
pub fn variants(ids: &[u32], n: usize) -> Cell {
    let mut words = vec![0u64; n.div_ceil(64).max(1)];
    for &id in ids {
        if let Some(w) = words.get_mut((id / 64) as usize) {
            *w |= 1u64 << (id % 64);
        }
    }
    Cell::Enum(Variants::from_words(words))
}

/// The joined type of a field both versions declare.
fn join_kind(
    name: &str,
    old: &FieldKind,
    new: &FieldKind,
    notes: &mut Vec<String>,
) -> Result<FieldKind, String> {
    match (old, new) {
        (FieldKind::Enum(a), FieldKind::Enum(b)) => {
            let mut all = b.clone();
            let added: Vec<&String> = b.iter().filter(|v| !a.contains(v)).collect();
            let removed: Vec<&String> = a.iter().filter(|v| !b.contains(v)).collect();
            if !added.is_empty() {
                notes.push(format!("field `{name}` gains {}", names(&added)));
            }
            if !removed.is_empty() {
                notes.push(format!("field `{name}` loses {}", names(&removed)));
                all.extend(removed.into_iter().cloned());
            }
            Ok(FieldKind::Enum(all))
        }
        (a, b) if a == b => Ok(a.clone()),
        (a, b) => Err(format!(
            "field `{name}` is {} in the old version and {} in the new one: the versions cannot be compared",
            a.name(),
            b.name()
        )),
    }
}

fn names(vs: &[&String]) -> String {
    let quoted: Vec<String> = vs.iter().map(|v| format!("`{v}`")).collect();
    crate::lint::list(&quoted)
}
