//! A notifications policy and its rules, valid by construction: made only
//! through constructors that check them ([`NotifyRule::new`],
//! [`NotifyPolicy::new`], or loading an artifact, which ends there), and
//! read, never changed, afterwards.

use super::matching::Kinds;
use super::validate;
use super::Action;
use crate::activation::Window;
use crate::artifact::ArtifactError;
use crate::table::{Cell, FieldSpec};
use crate::value::Value;
use crate::window::Span;
use crate::zone::Zone;
use alloc::string::String;
use alloc::vec::Vec;

/// A compiled notifications policy, valid by construction (see
/// [`NotifyPolicy::new`]).
///
/// A policy's rules cannot be changed behind its back (a terminal's state
/// is sized from them):
///
/// ```compile_fail,E0616
/// fn loosen(policy: &mut tollgate_runtime::notify::NotifyPolicy) {
///     policy.rules.clear(); // private: the state is sized from them
/// }
/// ```
///
/// ```compile_fail,E0616
/// use tollgate_runtime::notify::{Action, NotifyPolicy};
/// fn loosen(policy: &mut NotifyPolicy) {
///     policy.rules()[0].action = Action::AlwaysDeliver; // read only
/// }
/// ```
///
/// To change a policy, take its parts, change them, and build it again:
/// the result is checked as the first was.
///
/// ```
/// use tollgate_runtime::notify::NotifyPolicy;
/// fn stricter(policy: NotifyPolicy) -> Result<NotifyPolicy, tollgate_runtime::artifact::ArtifactError> {
///     let mut parts = policy.into_parts();
///     parts.lateness_ms = 0;
///     NotifyPolicy::new(parts)
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyPolicy {
    pub(super) name: String,
    pub(super) version: u32,
    pub(super) window: Window,
    pub(super) fields: Vec<FieldSpec>,
    pub(super) clock: u32,
    pub(super) zone: Zone,
    pub(super) lateness_ms: i64,
    pub(super) message_id: Option<u32>,
    pub(super) rules: Vec<NotifyRule>,
    /// What a terminal's state sized from this policy depends on, hashed
    /// ([`NotifyPolicy::shape`]).
    pub(super) shape: u64,
    /// Its rules sorted by kind, for the decision's phases (made from
    /// `rules` whenever they are).
    pub(super) kinds: Kinds,
}

/// The parts of a notifications policy, as plain data: what
/// [`NotifyPolicy::new`] checks and takes, and what
/// [`NotifyPolicy::into_parts`] gives back.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyParts {
    /// The policy's name.
    pub name: String,
    /// The policy's version.
    pub version: u32,
    /// When the policy decides records ([`crate::activation`]).
    pub window: Window,
    /// The record schema.
    pub fields: Vec<FieldSpec>,
    /// Index of the timestamp field decisions are made at.
    pub clock: u32,
    /// The policy's time zone.
    pub zone: Zone,
    /// How late a record may be, in ms.
    pub lateness_ms: i64,
    /// Index of the string field that identifies a message, if any.
    pub message_id: Option<u32>,
    /// The rules in file order.
    pub rules: Vec<NotifyRule>,
}

/// One rule: which messages it applies to, and what it does to them.
/// Valid on its own by construction ([`NotifyRule::new`]); checked against
/// the schema when a policy is made of it.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyRule {
    pub(super) name: String,
    pub(super) columns: Vec<u32>,
    pub(super) rows: Vec<Vec<Cell>>,
    pub(super) action: Action,
}

impl NotifyRule {
    /// A rule named `name` applying to the records any of `rows` admits
    /// (each row one cell per field of `columns`), doing `action`.
    ///
    /// # Errors
    /// [`ArtifactErrorKind::Invalid`](crate::artifact::ArtifactErrorKind::Invalid)
    /// naming the first thing wrong: no name, columns not ascending, a row
    /// of the wrong width, an empty or out-of-range duration or window, cap
    /// bounds reversed, a key field twice, a reason empty, too long or not
    /// one line. Whether its fields exist and fit is checked by
    /// [`NotifyPolicy::new`].
    pub fn new(
        name: String,
        columns: Vec<u32>,
        rows: Vec<Vec<Cell>>,
        action: Action,
    ) -> Result<NotifyRule, ArtifactError> {
        validate::rule(&name, &columns, &rows, &action)?;
        Ok(NotifyRule {
            name,
            columns,
            rows,
            action,
        })
    }

    /// Its name, reported in decisions.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Field index of each column of [`NotifyRule::rows`].
    pub fn columns(&self) -> &[u32] {
        &self.columns
    }

    /// The rule applies when any row admits the record.
    pub fn rows(&self) -> &[Vec<Cell>] {
        &self.rows
    }

    /// What it does.
    pub fn action(&self) -> &Action {
        &self.action
    }

    /// What the rule's state is measured over; `None` for a rule that keeps
    /// no state.
    pub fn span(&self) -> Option<Span> {
        match &self.action {
            Action::Dedup { window_ms, .. } => Some(Span::Rolling(*window_ms)),
            Action::Limit {
                period: super::Period::Rolling(ms),
                ..
            } => Some(Span::Rolling(*ms)),
            Action::Limit {
                period: super::Period::CalendarDay,
                ..
            } => Some(Span::CalendarDay),
            _ => None,
        }
    }

    /// The key fields of a rule that keeps state.
    pub fn keys(&self) -> Option<&[u32]> {
        match &self.action {
            Action::Dedup { keys, .. } | Action::Limit { keys, .. } => Some(keys),
            _ => None,
        }
    }
}

impl NotifyPolicy {
    /// A policy of these parts.
    ///
    /// # Errors
    /// [`ArtifactErrorKind::Invalid`](crate::artifact::ArtifactErrorKind::Invalid)
    /// naming the first thing wrong: the schema malformed; the clock not a
    /// timestamp field or the message id not a string field; the lateness
    /// outside 0..=7 days; the zone's span empty, an offset of a day or
    /// more, changes not ascending within the span; two rules sharing a
    /// name; a column, key or cap field not in the schema or of the wrong
    /// kind; a cell that does not fit its column.
    pub fn new(parts: NotifyParts) -> Result<NotifyPolicy, ArtifactError> {
        validate::policy(&parts)?;
        let NotifyParts {
            name,
            version,
            window,
            fields,
            clock,
            zone,
            lateness_ms,
            message_id,
            rules,
        } = parts;
        let mut policy = NotifyPolicy {
            name,
            version,
            window,
            fields,
            clock,
            zone,
            lateness_ms,
            message_id,
            kinds: Kinds::of(&rules),
            rules,
            shape: 0,
        };
        policy.shape = policy.hash_shape();
        Ok(policy)
    }

    /// Its parts, to change and build again with [`NotifyPolicy::new`].
    pub fn into_parts(self) -> NotifyParts {
        NotifyParts {
            name: self.name,
            version: self.version,
            window: self.window,
            fields: self.fields,
            clock: self.clock,
            zone: self.zone,
            lateness_ms: self.lateness_ms,
            message_id: self.message_id,
            rules: self.rules,
        }
    }

    /// The same policy decided within `window` instead (its activation
    /// window changes nothing else).
    ///
    /// # Errors
    /// [`ArtifactErrorKind::Invalid`](crate::artifact::ArtifactErrorKind::Invalid)
    /// for a window that is empty or out of range.
    pub fn with_window(mut self, window: Window) -> Result<NotifyPolicy, ArtifactError> {
        crate::table::validate_window(&window)?;
        self.window = window;
        self.shape = self.hash_shape();
        Ok(self)
    }

    /// The same policy under another version number (which changes no
    /// decision).
    pub fn with_version(mut self, version: u32) -> NotifyPolicy {
        self.version = version;
        self.shape = self.hash_shape();
        self
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The policy's version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// When the policy decides records ([`crate::activation`]): a record
    /// outside it is refused ([`super::NotifyError::NotYetEffective`],
    /// [`super::NotifyError::Expired`]) unless an always-deliver or a
    /// suppress rule decides it.
    pub fn window(&self) -> Window {
        self.window
    }

    /// The record schema: a record holds one value per field, in this order.
    pub fn fields(&self) -> &[FieldSpec] {
        &self.fields
    }

    /// Index of the timestamp field decisions are made at.
    pub fn clock(&self) -> u32 {
        self.clock
    }

    /// The instant `record` is decided at (Unix ms): its clock field's
    /// value, or `None` when the record does not set it.
    pub fn instant_of(&self, record: &[Value]) -> Option<i64> {
        record.get(self.clock as usize).and_then(Value::instant)
    }

    /// The policy's time zone.
    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    /// How late a record may be, in ms: a record of a rule and key is
    /// accepted at `t ≥ newest − lateness`, where `newest` is the newest
    /// delivery recorded for that key.
    pub fn lateness_ms(&self) -> i64 {
        self.lateness_ms
    }

    /// Index of the string field that identifies a message, if the policy
    /// names one (`message id FIELD`).
    pub fn message_id(&self) -> Option<u32> {
        self.message_id
    }

    /// The rules in file order.
    pub fn rules(&self) -> &[NotifyRule] {
        &self.rules
    }

    /// A hash of everything a terminal's state sized from this policy
    /// depends on: its name, version and window, the lateness, the zone,
    /// the message id, and each rule's name, action and keys. A
    /// [`crate::bounded::BoundedState`] records it at creation and refuses
    /// to decide for a policy of another shape
    /// ([`super::NotifyError::StateMismatch`]).
    pub fn shape(&self) -> u64 {
        self.shape
    }

    fn hash_shape(&self) -> u64 {
        let mut h = xxhash_rust::xxh64::Xxh64::new(0x5a7e_0f5a);
        let str = |h: &mut xxhash_rust::xxh64::Xxh64, s: &str| {
            h.update(&(s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        };
        str(&mut h, &self.name);
        h.update(&self.version.to_le_bytes());
        h.update(&self.window.from_ms().unwrap_or(i64::MIN).to_le_bytes());
        h.update(&self.window.until_ms().unwrap_or(i64::MAX).to_le_bytes());
        h.update(&self.lateness_ms.to_le_bytes());
        str(&mut h, &self.zone.name);
        h.update(&self.zone.initial.to_le_bytes());
        h.update(&self.zone.from.to_le_bytes());
        h.update(&self.zone.until.to_le_bytes());
        for &(at, offset) in &self.zone.changes {
            h.update(&at.to_le_bytes());
            h.update(&offset.to_le_bytes());
        }
        h.update(&self.message_id.map_or(u64::MAX, u64::from).to_le_bytes());
        h.update(&(self.rules.len() as u64).to_le_bytes());
        for r in &self.rules {
            str(&mut h, &r.name);
            let (tag, a, b): (u8, i64, i64) = match &r.action {
                Action::AlwaysDeliver => (0, 0, 0),
                Action::Suppress { .. } => (1, 0, 0),
                Action::Dedup { window_ms, .. } => (2, *window_ms, 0),
                Action::Quiet { drop, .. } => (3, i64::from(*drop), 0),
                Action::Limit { cap, period, .. } => (
                    4,
                    i64::from(cap.most()),
                    match period {
                        super::Period::Rolling(ms) => *ms,
                        super::Period::CalendarDay => -1,
                    },
                ),
            };
            h.update(&[tag]);
            h.update(&a.to_le_bytes());
            h.update(&b.to_le_bytes());
            for &k in r.keys().unwrap_or(&[]) {
                h.update(&k.to_le_bytes());
            }
        }
        h.digest()
    }
}
