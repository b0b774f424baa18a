//! A terminal's policies over an update: the current policy, at most one
//! staged successor, and, after a swap, the previous policy kept while
//! late records may still arrive.
//!
//! - [`Terminal::stage`] verifies an artifact (signature against the
//!   trusted keys, the floor of what is held, the whole policy) and holds
//!   it as the successor; a refused one changes nothing.
//! - [`Terminal::route`] says which policy decides a record stamped at an
//!   instant: the successor from its activation (its `effective from`) on,
//!   swapping it in at the first such record; the previous policy for a
//!   record stamped before the current one's activation, for as long as it
//!   is kept; the current one otherwise.
//! - [`Terminal::swap`] swaps a staged successor in at once (the C ABI's
//!   swap at midnight by the terminal's clock): routing by each record's
//!   instant is unchanged by it.
//! - The previous policy is dropped once the newest record routed is more
//!   than the lateness past the current policy's activation: no record
//!   earlier than the activation can then be accepted (notifications: the
//!   previous policy's `late records within`; fees: [`Terminal::set_fee_lateness`]).
//!
//! Throttle state carries over at the swap as between versions of a saved
//! state ([`MemoryState::load_carried`], docs/notifications.md): a rule
//! keeps its deliveries when the successor has a stateful rule of the same
//! name, action, window and key fields, the lateness and zone unchanged.
//! While the previous policy is kept, a delivery either one makes is also
//! recorded in the other's state for the rules carried between them, so
//! that caps and de-duplication, which look both ways in time, see every
//! delivery across the activation.
//!
//! Where that state lives is the terminal's [`Store`]: [`Unbounded`] keeps
//! a [`MemoryState`] per policy (servers, `tollgate eval`); [`Bounded`]
//! keeps a fixed-capacity [`BoundedState`] per policy, allocated when the
//! policy is installed or staged, so that routing, the swap and deciding
//! allocate nothing (terminals, the C ABI). How the successor's rules
//! receive the current one's deliveries is worked out when it is staged
//! ([`carry_plan`]).

use crate::activation::Outside;
use crate::artifact::trust::{decode_trusted, Floor, TrustedKey};
use crate::artifact::{identify, ArtifactError, Compiled};
use crate::bounded::{BoundedState, CapacityError, WhenFull};
use crate::eval::{Component, EvalError};
use crate::ids::Answer;
use crate::notify::{
    key_of, Action, Decision, MemoryState, NotifyError, NotifyPolicy, ThrottleState,
};
use crate::position::NotifyRuleIndex;
use crate::state_file::{carry_plan, Carried};
use crate::trace::{FeeTracer, NoTrace, NotifyTracer};
use crate::value::Value;
use crate::Decimal;
use alloc::string::String;
use alloc::vec::Vec;

/// The lateness after which a fees policy's predecessor is dropped, unless
/// [`Terminal::set_fee_lateness`] sets another: one hour, the default
/// lateness of notifications.
pub const DEFAULT_FEE_LATENESS_MS: i64 = 3_600_000;

/// Where a terminal keeps the throttle state of each notifications policy
/// it holds, and how that state carries into a successor's at the swap.
pub trait Store {
    /// One policy's throttle state.
    type State: ThrottleState + Clone + core::fmt::Debug;

    /// A new, empty state for `policy`, made when the policy is installed
    /// or staged.
    ///
    /// # Errors
    /// [`CapacityError`] when no state of this store can hold the policy.
    fn make(&self, policy: &NotifyPolicy) -> Result<Self::State, CapacityError>;

    /// Carries what `from` holds for `old` into `into`, the fresh state of
    /// `new`: rule `i` of `old` into rule `plan[i]` of `new` ([`carry_plan`]).
    fn carry(
        &self,
        from: &Self::State,
        old: &NotifyPolicy,
        into: &mut Self::State,
        new: &NotifyPolicy,
        plan: &[Option<u32>],
    );
}

/// A [`MemoryState`] per policy, as large as the keys seen: for servers and
/// `tollgate eval`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unbounded;

impl Store for Unbounded {
    type State = MemoryState;

    fn make(&self, _policy: &NotifyPolicy) -> Result<MemoryState, CapacityError> {
        Ok(MemoryState::new())
    }

    fn carry(
        &self,
        from: &MemoryState,
        old: &NotifyPolicy,
        into: &mut MemoryState,
        new: &NotifyPolicy,
        _plan: &[Option<u32>],
    ) {
        // The saved form carries per-rule pruning points too; it decides
        // rule by rule as `carry_plan` does.
        if let Ok((state, _)) = MemoryState::load_carried(&from.save(old), new) {
            *into = state;
        }
    }
}

/// A fixed-capacity [`BoundedState`] per policy (`BoundedState::with_ids`
/// with these sizes), allocated when the policy is installed or staged:
/// for terminals. Routing, the swap and deciding allocate nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounded {
    /// Keys per stateful rule.
    pub capacity: usize,
    /// Message ids remembered (when the policy names one).
    pub id_capacity: usize,
    /// What a full table does with a new key.
    pub when_full: WhenFull,
}

impl Store for Bounded {
    type State = BoundedState;

    fn make(&self, policy: &NotifyPolicy) -> Result<BoundedState, CapacityError> {
        BoundedState::with_ids(policy, self.capacity, self.when_full, self.id_capacity)
    }

    fn carry(
        &self,
        from: &BoundedState,
        _old: &NotifyPolicy,
        into: &mut BoundedState,
        _new: &NotifyPolicy,
        plan: &[Option<u32>],
    ) {
        into.carry_from(from, plan);
    }
}

/// A policy the terminal holds: the decoded policy, its identity, and (for
/// notifications) its throttle state.
#[derive(Debug, Clone)]
pub struct Held<T = MemoryState> {
    compiled: Compiled,
    name: String,
    version: u32,
    hash: u64,
    state: Option<T>,
}

impl<T> Held<T> {
    /// The artifact verified and decoded, with no state yet.
    fn decode(
        bytes: &[u8],
        keys: &[TrustedKey],
        floor: Option<&Floor<'_>>,
    ) -> Result<Held<T>, ArtifactError> {
        let compiled = decode_trusted(bytes, keys, floor)?;
        let (name, version, hash) = identify(bytes)?;
        Ok(Held {
            compiled,
            name,
            version,
            hash,
            state: None,
        })
    }

    /// As [`Held::decode`], with a state from `store` for a notifications
    /// policy.
    fn load<S: Store<State = T>>(
        bytes: &[u8],
        keys: &[TrustedKey],
        floor: Option<&Floor<'_>>,
        store: &S,
    ) -> Result<Held<T>, StageError> {
        let mut held = Held::decode(bytes, keys, floor).map_err(StageError::Artifact)?;
        if let Compiled::Notifications(p) = &held.compiled {
            held.state = Some(store.make(p).map_err(StageError::Capacity)?);
        }
        Ok(held)
    }

    /// The decoded policy.
    pub fn compiled(&self) -> &Compiled {
        &self.compiled
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The policy's version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The artifact's content hash.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// The policy's activation window.
    pub fn window(&self) -> crate::activation::Window {
        match &self.compiled {
            Compiled::Fees(t) => t.window(),
            Compiled::Notifications(p) => p.window(),
        }
    }

    /// The instant from which it decides: its window's start, or the
    /// earliest instant for a policy without one.
    pub fn activation_ms(&self) -> i64 {
        self.window().from_ms().unwrap_or(i64::MIN)
    }

    /// Its identity as the floor an update must not go below.
    pub fn floor(&self) -> Floor<'_> {
        Floor {
            name: &self.name,
            version: self.version,
            hash: self.hash,
        }
    }

    /// Its throttle state (none for a fees policy).
    pub fn state(&self) -> Option<&T> {
        self.state.as_ref()
    }

    fn notify(&self) -> Option<&NotifyPolicy> {
        match &self.compiled {
            Compiled::Notifications(p) => Some(p),
            Compiled::Fees(_) => None,
        }
    }

    fn is_fees(&self) -> bool {
        matches!(self.compiled, Compiled::Fees(_))
    }
}

/// Which held policy decides a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The policy before the last swap, kept for late records.
    Previous,
    /// The current policy.
    Current,
}

/// Why an artifact was not installed or staged. Nothing held changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StageError {
    /// The artifact was refused: signature, floor (a rollback, a reused
    /// version), or damage.
    Artifact(ArtifactError),
    /// The terminal's [`Store`] cannot make a throttle state for the
    /// policy (a [`Bounded`] store too small for a rule's cap, or memory).
    Capacity(CapacityError),
    /// The artifact holds another policy (by name) than the current one.
    OtherPolicy,
    /// The artifact holds the other kind of policy (fees or notifications).
    OtherKind,
    /// The artifact is the version held already (current or staged).
    NotNewer {
        /// The newest version held.
        held: u32,
    },
}

impl core::fmt::Display for StageError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StageError::Artifact(e) => write!(f, "{e}"),
            StageError::Capacity(e) => write!(f, "{e}"),
            StageError::OtherPolicy => f.write_str("the artifact holds another policy"),
            StageError::OtherKind => {
                f.write_str("the artifact holds the other kind of policy (fees or notifications)")
            }
            StageError::NotNewer { held } => {
                write!(
                    f,
                    "version {held} is held already: a successor needs a higher version"
                )
            }
        }
    }
}

impl core::error::Error for StageError {}

/// Why a record was not decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TerminalError {
    /// The notifications policy could not decide it (including
    /// [`NotifyError::Expired`] and [`NotifyError::NotYetEffective`]).
    Notify(NotifyError),
    /// The fees policy could not price it.
    Eval(EvalError),
    /// A fees record stamped before the deciding policy takes effect.
    NotYetEffective {
        /// The policy's start, in ms.
        from_ms: i64,
    },
    /// A fees record stamped at or after the deciding policy's end, with no
    /// successor staged.
    Expired {
        /// The policy's end, in ms.
        until_ms: i64,
    },
    /// The slot holds the other kind of policy, or none.
    WrongSlot,
    /// The record's clock is not the instant it was routed at.
    Misrouted,
}

impl core::fmt::Display for TerminalError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TerminalError::Notify(e) => write!(f, "{e}"),
            TerminalError::Eval(e) => write!(f, "{e}"),
            TerminalError::NotYetEffective { from_ms } => write!(
                f,
                "the record is stamped before the policy takes effect at {from_ms} ms"
            ),
            TerminalError::Expired { until_ms } => write!(
                f,
                "the record is stamped after the policy's window ended at {until_ms} ms: \
                 a successor policy is needed"
            ),
            TerminalError::WrongSlot => {
                f.write_str("no policy of this kind is held in the slot routed to")
            }
            TerminalError::Misrouted => {
                f.write_str("the record's time is not the instant it was routed at")
            }
        }
    }
}

impl core::error::Error for TerminalError {}

/// A decision and the version of the policy that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decided<T> {
    /// The version of the policy that decided.
    pub version: u32,
    /// What it decided.
    pub answer: T,
}

/// The current policy, at most one staged successor, and the previous
/// policy while late records may arrive; throttle state kept in `S`.
#[derive(Debug, Clone)]
pub struct Terminal<S: Store = Unbounded> {
    store: S,
    keys: Vec<TrustedKey>,
    fee_lateness_ms: i64,
    previous: Option<Held<S::State>>,
    current: Held<S::State>,
    staged: Option<Held<S::State>>,
    /// How the current policy's state carries into the staged one's:
    /// worked out at staging, used at the swap.
    staged_plan: Option<(Vec<Option<u32>>, Carried)>,
    newest_ms: Option<i64>,
    /// For each rule of the previous policy, the current policy's rule its
    /// deliveries were carried into.
    carried_into: Vec<Option<u32>>,
    carried: Option<Carried>,
}

impl Terminal {
    /// A terminal running `bytes`, verified against `keys` (when any are
    /// given) and the installed `floor` (when given), its throttle state
    /// in memory ([`Unbounded`]).
    ///
    /// # Errors
    /// The artifact's refusal ([`decode_trusted`]).
    pub fn install(
        bytes: &[u8],
        keys: &[TrustedKey],
        floor: Option<&Floor<'_>>,
    ) -> Result<Terminal, ArtifactError> {
        let mut current = Held::decode(bytes, keys, floor)?;
        if matches!(current.compiled, Compiled::Notifications(_)) {
            current.state = Some(MemoryState::new());
        }
        Ok(Terminal::holding(current, keys, Unbounded))
    }
}

impl<S: Store> Terminal<S> {
    /// A terminal running `bytes`, verified against `keys` (when any are
    /// given) and the installed `floor` (when given), keeping throttle
    /// state in `store`.
    ///
    /// # Errors
    /// [`StageError::Artifact`] for the artifact's refusal
    /// ([`decode_trusted`]); [`StageError::Capacity`] when `store` cannot
    /// hold the policy's state.
    pub fn install_with(
        bytes: &[u8],
        keys: &[TrustedKey],
        floor: Option<&Floor<'_>>,
        store: S,
    ) -> Result<Terminal<S>, StageError> {
        let current = Held::load(bytes, keys, floor, &store)?;
        Ok(Terminal::holding(current, keys, store))
    }

    fn holding(current: Held<S::State>, keys: &[TrustedKey], store: S) -> Terminal<S> {
        Terminal {
            store,
            keys: keys.to_vec(),
            fee_lateness_ms: DEFAULT_FEE_LATENESS_MS,
            previous: None,
            current,
            staged: None,
            staged_plan: None,
            newest_ms: None,
            carried_into: Vec::new(),
            carried: None,
        }
    }

    /// How long a fees policy's predecessor is kept past the current
    /// policy's activation (notifications use their own lateness).
    pub fn set_fee_lateness(&mut self, ms: i64) {
        self.fee_lateness_ms = ms.max(0);
    }

    /// The current policy.
    pub fn current(&self) -> &Held<S::State> {
        &self.current
    }

    /// The staged successor, if any.
    pub fn staged(&self) -> Option<&Held<S::State>> {
        self.staged.as_ref()
    }

    /// The previous policy, while it is kept.
    pub fn previous(&self) -> Option<&Held<S::State>> {
        self.previous.as_ref()
    }

    /// The policy in `slot`, if one is held there.
    pub fn held(&self, slot: Slot) -> Option<&Held<S::State>> {
        match slot {
            Slot::Previous => self.previous.as_ref(),
            Slot::Current => Some(&self.current),
        }
    }

    /// What the last swap carried of the throttle state (notifications).
    pub fn carried(&self) -> Option<&Carried> {
        self.carried.as_ref()
    }

    /// The floor to persist: the current policy's identity. After a
    /// restart the terminal installs its current artifact with it (and
    /// stages its successor again): anything older is refused. While
    /// running, [`Terminal::stage`] measures against the newest version
    /// held, the staged one included.
    pub fn floor(&self) -> Floor<'_> {
        self.current.floor()
    }

    /// Verifies `bytes` and holds it as the successor, replacing a staged
    /// one of a lower version. The artifact must be signed by a trusted
    /// key (when the terminal has keys), hold the same policy and kind,
    /// and have a higher version than everything held. Its throttle state
    /// is made now (a [`Bounded`] store allocates it here), and how the
    /// current state will carry into it is worked out. On error nothing
    /// changes.
    ///
    /// # Errors
    /// [`StageError`].
    pub fn stage(&mut self, bytes: &[u8]) -> Result<(), StageError> {
        let newest = self.staged.as_ref().unwrap_or(&self.current);
        let held = Held::load(bytes, &self.keys, Some(&newest.floor()), &self.store)?;
        if held.name != newest.name {
            return Err(StageError::OtherPolicy);
        }
        if held.is_fees() != newest.is_fees() {
            return Err(StageError::OtherKind);
        }
        if held.version <= newest.version {
            return Err(StageError::NotNewer {
                held: newest.version,
            });
        }
        self.staged_plan = match (self.current.notify(), held.notify()) {
            (Some(old), Some(new)) => Some(carry_plan(old, new)),
            _ => None,
        };
        self.staged = Some(held);
        Ok(())
    }

    /// Swaps the staged successor in now: it becomes current, the current
    /// one previous (its throttle state carried into the successor).
    /// Returns `false`, changing nothing, when nothing is staged.
    pub fn swap(&mut self) -> bool {
        let Some(mut next) = self.staged.take() else {
            return false;
        };
        let (plan, carried) = self.staged_plan.take().unzip();
        self.carried_into = plan.unwrap_or_default();
        self.carried = carried;
        let new = match &next.compiled {
            Compiled::Notifications(p) => Some(p),
            Compiled::Fees(_) => None,
        };
        if let (Some(old), Some(from), Some(new), Some(into)) = (
            self.current.notify(),
            self.current.state.as_ref(),
            new,
            next.state.as_mut(),
        ) {
            self.store.carry(from, old, into, new, &self.carried_into);
        }
        self.previous = Some(core::mem::replace(&mut self.current, next));
        true
    }

    /// Which policy decides a record stamped at `at_ms`: swaps the staged
    /// successor in when the record is at or after its activation, and
    /// drops the previous policy once no record before the current one's
    /// activation can be accepted.
    pub fn route(&mut self, at_ms: i64) -> Slot {
        let newest = self.newest_ms.map_or(at_ms, |n| n.max(at_ms));
        self.newest_ms = Some(newest);
        if self
            .staged
            .as_ref()
            .is_some_and(|s| at_ms >= s.activation_ms())
        {
            self.swap();
        }
        if let Some(prev) = &self.previous {
            let lateness = prev
                .notify()
                .map_or(self.fee_lateness_ms, |p| p.lateness_ms());
            if newest.saturating_sub(lateness) > self.current.activation_ms() {
                self.previous = None;
                self.carried_into.clear();
            }
        }
        self.slot_at(at_ms)
    }

    /// The slot a record at `at_ms` belongs to, without swapping or
    /// dropping anything.
    fn slot_at(&self, at_ms: i64) -> Slot {
        if self.previous.is_some() && at_ms < self.current.activation_ms() {
            Slot::Previous
        } else {
            Slot::Current
        }
    }

    /// Decides a notification `record` (typed for the policy in `slot`, as
    /// [`Terminal::route`] gave for its clock) and says which version
    /// decided.
    ///
    /// # Errors
    /// [`TerminalError::WrongSlot`] when `slot` holds no notifications
    /// policy; [`TerminalError::Misrouted`] when the record's clock
    /// belongs to another slot; the policy's own error otherwise.
    pub fn decide(
        &mut self,
        slot: Slot,
        record: &[Value],
    ) -> Result<Decided<Answer>, TerminalError> {
        self.decide_traced(slot, record, &mut NoTrace)
    }

    /// [`Terminal::decide`], telling `tracer` how the deciding version
    /// decided ([`NotifyPolicy::answer_traced`]).
    ///
    /// # Errors
    /// As [`Terminal::decide`].
    pub fn decide_traced<T: NotifyTracer>(
        &mut self,
        slot: Slot,
        record: &[Value],
        tracer: &mut T,
    ) -> Result<Decided<Answer>, TerminalError> {
        let policy = match self.held(slot).map(|h| &h.compiled) {
            Some(Compiled::Notifications(p)) => p,
            _ => return Err(TerminalError::WrongSlot),
        };
        let at_ms = policy
            .instant_of(record)
            .ok_or(TerminalError::Notify(NotifyError::NoTimestamp))?;
        if self.slot_at(at_ms) != slot {
            return Err(TerminalError::Misrouted);
        }
        let held = match slot {
            Slot::Previous => self.previous.as_mut(),
            Slot::Current => Some(&mut self.current),
        }
        .ok_or(TerminalError::WrongSlot)?;
        let Compiled::Notifications(policy) = &held.compiled else {
            return Err(TerminalError::WrongSlot);
        };
        let version = held.version;
        let state = held.state.as_mut().ok_or(TerminalError::WrongSlot)?;
        let answer = policy
            .answer_traced(record, state, tracer)
            .map_err(TerminalError::Notify)?;
        if !answer.repeat {
            self.mirror_delivery(slot, record, at_ms, answer.decision);
        }
        Ok(Decided { version, answer })
    }

    /// While the previous policy is kept, a delivery either policy makes
    /// is counted by the other's rules of the same name its state was
    /// carried between, so that each sees every delivery near the
    /// activation, both ways in time.
    fn mirror_delivery(&mut self, from: Slot, record: &[Value], at_ms: i64, decision: Decision) {
        if !matches!(decision, Decision::Deliver { .. }) {
            return;
        }
        let Some(prev) = self.previous.as_mut() else {
            return;
        };
        let (Compiled::Notifications(old), Compiled::Notifications(new)) =
            (&prev.compiled, &self.current.compiled)
        else {
            return;
        };
        let (policy, other) = match from {
            Slot::Previous => (old, &mut self.current.state),
            Slot::Current => (new, &mut prev.state),
        };
        let Some(other) = other.as_mut() else {
            return;
        };
        if policy
            .rules()
            .iter()
            .any(|r| *r.action() == Action::AlwaysDeliver && r.applies(record))
        {
            return; // delivered and counted nowhere
        }
        for (i, &into) in self.carried_into.iter().enumerate() {
            let Some(into) = into else { continue };
            let (here, there) = match from {
                Slot::Previous => (i, into as usize),
                Slot::Current => (into as usize, i),
            };
            let Some(rule) = policy.rules().get(here) else {
                continue;
            };
            let (Some(keys), Ok(there)) = (rule.keys(), u32::try_from(there)) else {
                continue;
            };
            if rule.applies(record) {
                other.record(
                    NotifyRuleIndex::new(there),
                    key_of(record, keys),
                    at_ms,
                    i64::MIN,
                );
            }
        }
    }

    /// Prices a fees `record` (typed for the policy in `slot`, as
    /// [`Terminal::route`] gave for `at_ms`, the transaction's instant)
    /// and says which version priced it.
    ///
    /// # Errors
    /// [`TerminalError::WrongSlot`], [`TerminalError::Misrouted`],
    /// [`TerminalError::NotYetEffective`] and [`TerminalError::Expired`]
    /// for an instant outside the policy's window, the pricing error
    /// otherwise.
    pub fn price(
        &self,
        slot: Slot,
        at_ms: i64,
        record: &[Value],
        components: &mut Vec<Component>,
    ) -> Result<Decided<Decimal>, TerminalError> {
        self.price_traced(slot, at_ms, record, components, &mut NoTrace)
    }

    /// [`Terminal::price`], telling `tracer` how the pricing version
    /// priced ([`crate::table::Table::fee_traced`]).
    ///
    /// # Errors
    /// As [`Terminal::price`].
    pub fn price_traced<T: FeeTracer>(
        &self,
        slot: Slot,
        at_ms: i64,
        record: &[Value],
        components: &mut Vec<Component>,
        tracer: &mut T,
    ) -> Result<Decided<Decimal>, TerminalError> {
        if self.slot_at(at_ms) != slot {
            return Err(TerminalError::Misrouted);
        }
        let held = self.held(slot).ok_or(TerminalError::WrongSlot)?;
        let Compiled::Fees(table) = &held.compiled else {
            return Err(TerminalError::WrongSlot);
        };
        table.window().admit(at_ms).map_err(|o| match o {
            Outside::Before { from_ms } => TerminalError::NotYetEffective { from_ms },
            Outside::After { until_ms } => TerminalError::Expired { until_ms },
        })?;
        let fee = table
            .fee_traced(record, components, tracer)
            .map_err(TerminalError::Eval)?;
        Ok(Decided {
            version: held.version,
            answer: fee,
        })
    }
}
