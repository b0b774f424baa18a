//! The fields a policy reads: in its conditions, fees, keys, caps, clock
//! and message id (`unused-field` and `unused-variant` share them).

use crate::ast::{FeeTerm, File, Item, Outcome};
use crate::model::{Action, Body, CapAmount, Cond, CondKind, Policy};
use std::collections::HashSet;

/// Fields read by a condition, a fee, a key, a cap, the clock or the
/// message id.
pub fn fields_read(policy: &Policy, file: &File) -> HashSet<usize> {
    let mut read = HashSet::new();
    let index = |name: &str| policy.fields.iter().position(|f| f.name == name);
    match &policy.body {
        Body::Fees(schedules) => {
            for s in schedules {
                read.insert(s.base);
                for r in &s.rules {
                    cond_fields(&r.when, &mut read);
                }
                for e in &s.expects {
                    cond_fields(&e.when, &mut read);
                }
            }
        }
        Body::Notifications(n) => {
            read.insert(n.clock);
            read.extend(n.message_id);
            for r in &n.rules {
                cond_fields(&r.when, &mut read);
                match &r.action {
                    Action::Dedup { keys, .. } => read.extend(keys.iter().copied()),
                    Action::Limit { keys, max, .. } => {
                        read.extend(keys.iter().copied());
                        if let CapAmount::Field { field, .. } = max {
                            read.insert(*field);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    // `RATE of FIELD` terms.
    for item in &file.items {
        let Item::Schedule(s) = item else { continue };
        for r in &s.rules {
            if let Outcome::Fee(f) = &r.outcome {
                for t in &f.terms {
                    if let FeeTerm::Operand { of: Some(id), .. } = t {
                        read.extend(index(&id.name));
                    }
                }
            }
        }
    }
    read
}

/// Adds the fields condition `c` reads to `read`.
pub fn cond_fields(c: &Cond, read: &mut HashSet<usize>) {
    match &c.kind {
        CondKind::Const(_) => {}
        CondKind::Field(f) | CondKind::Compare { field: f, .. } | CondKind::In { field: f, .. } => {
            read.insert(*f);
        }
        CondKind::Not(x) => cond_fields(x, read),
        CondKind::All(xs) | CondKind::Any(xs) => xs.iter().for_each(|x| cond_fields(x, read)),
    }
}
