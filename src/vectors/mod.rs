//! Conformance vectors (`tollgate-vectors POLICY -o FILE`): records of a
//! policy with the answers `tollgate eval` must print for them. This module
//! chooses the records (a record in every region of the decision table,
//! bounds, rounding midpoints, message streams) and writes the lines `eval`
//! prints; the answers come from a [`Reference`], which must not be the
//! runtime the vectors certify: the `tollgate-oracle` crate's independent
//! interpreters are the one implementation, and its `tollgate-vectors`
//! program is the command. A firmware team replays the vectors through the
//! compiled artifact on the device; `docs/vectors.md` describes the file.

mod cform;
pub mod command;
pub mod fees;
pub mod notify;

use crate::diagnostic::Diagnostic;
use crate::model::{Policy, PolicyKind};
use crate::pipeline::{self, Goal, Options};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value as Json};
use tollgate_runtime::artifact;
use tollgate_runtime::eval::{Component, EvalError};
use tollgate_runtime::fee::FeeFormula;
use tollgate_runtime::ids::Answer;
use tollgate_runtime::notify::NotifyError;
use tollgate_runtime::rounding::Rounding;
use tollgate_runtime::table::FieldSpec;
use tollgate_runtime::value::Value;

/// Where the vectors' expected answers come from: an implementation of the
/// language independent of the runtime being certified (the reference
/// interpreters of `tollgate-oracle`), so that a bug in the runtime cannot
/// write the answer that hides it.
pub trait Reference {
    /// What a notifications policy remembers between records of a stream.
    type History;

    /// Prices a fees record: each schedule's component and their exact
    /// total.
    ///
    /// # Errors
    /// The error the record's line reports, as the runtime names it.
    fn price(
        &self,
        policy: &Policy,
        record: &[Value],
    ) -> Result<(Vec<Component>, Decimal), EvalError>;

    /// A formula's exact fee on `amount` before rounding (to find the
    /// amounts whose fee lies halfway between two rounding steps), or
    /// `None` when it cannot be computed exactly.
    fn unrounded(
        &self,
        formula: &FeeFormula,
        amount: Decimal,
        rounding: &Rounding,
    ) -> Option<Decimal>;

    /// An empty history for a notifications policy whose zone is built
    /// for the years `first..=last`.
    fn history(&self, years: (i32, i32)) -> Self::History;

    /// Decides a notifications record after the records of `history`
    /// (and records it there); `None` when the policy or the record is
    /// not a notification's.
    fn answer(
        &self,
        policy: &Policy,
        record: &[Value],
        history: &mut Self::History,
    ) -> Option<Result<Answer, NotifyError>>;
}

/// The version of the vectors file format.
pub const FORMAT_VERSION: u32 = 1;

/// One vector: a record as `eval` reads it (a JSON object) and the line
/// `eval` prints for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Vector {
    /// The record.
    pub record: Map<String, Json>,
    /// The expected output line, without its line break.
    pub expect: String,
}

/// Vectors answered in one run: a fresh state (notifications), records
/// numbered from 1 in error lines.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Group {
    /// What the group exercises, for people reading the file.
    pub about: String,
    /// The vectors, in order.
    pub vectors: Vec<Vector>,
}

/// The vectors of one policy, and what they certify.
#[derive(Debug, Clone)]
pub struct Pack {
    /// The policy's name.
    pub policy: String,
    /// Its version.
    pub version: u32,
    /// Fees or notifications.
    pub kind: PolicyKind,
    /// The content hash of the artifact the vectors certify.
    pub hash: u64,
    /// The years the notifications policy's zone is built for.
    pub zone_years: Option<(i32, i32)>,
    /// The record schema, for the C form.
    pub fields: Vec<FieldSpec>,
    /// The currency's decimals (fees), for the C form's minor units.
    pub decimals: u32,
    /// The groups, in order.
    pub groups: Vec<Group>,
    /// The artifact itself, as `tollgate compile` writes it.
    pub artifact: Vec<u8>,
}

impl Pack {
    /// How many vectors the pack holds.
    pub fn len(&self) -> usize {
        self.groups.iter().map(|g| g.vectors.len()).sum()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The header line's JSON.
    pub fn header(&self) -> Json {
        let mut h = json!({
            "tollgate_vectors": FORMAT_VERSION,
            "policy": self.policy,
            "version": self.version,
            "kind": match self.kind {
                PolicyKind::Fees => "fees",
                PolicyKind::Notifications => "notifications",
            },
            "artifact": format!("{:016x}", self.hash),
            "vectors": self.len(),
        });
        if let (Some((a, b)), Json::Object(m)) = (self.zone_years, &mut h) {
            m.insert("zone_years".into(), json!(format!("{a}..{b}")));
        }
        h
    }

    /// The file as JSON Lines: the header, then per group a reset marker
    /// and its vectors.
    pub fn jsonl(&self) -> String {
        let mut out = format!("{}\n", self.header());
        for g in &self.groups {
            out.push_str(&format!("{}\n", json!({ "reset": g.about })));
            for v in &g.vectors {
                let line = json!({ "record": Json::Object(v.record.clone()), "expect": v.expect });
                out.push_str(&format!("{line}\n"));
            }
        }
        out
    }

    /// The same vectors in the line-oriented form the C example reads
    /// (`docs/vectors.md`).
    ///
    /// # Errors
    /// A sentence when a value cannot be written in that form (a string
    /// with a tab or a line break).
    pub fn c_form(&self) -> Result<String, String> {
        cform::write(self)
    }
}

/// Why vectors could not be made.
#[derive(Debug)]
pub enum VectorsError {
    /// The policy has errors.
    Invalid(Vec<Diagnostic>),
    /// The policy cannot be certified this way (a sentence).
    Unsupported(String),
}

/// The vectors of a policy source, its notifications zone built for
/// `years` (default [`ZONE_YEARS`](crate::compile::notify::ZONE_YEARS)),
/// answered by `reference`.
///
/// # Errors
/// [`VectorsError::Invalid`] with the diagnostics of a policy that does not
/// check or compile; [`VectorsError::Unsupported`] for `years` on a fees
/// policy or an answer that cannot be written.
pub fn generate<R: Reference>(
    reference: &R,
    text: &str,
    years: Option<(i32, i32)>,
) -> Result<Pack, VectorsError> {
    let options = Options {
        zone_years: years.unwrap_or(crate::compile::notify::ZONE_YEARS),
        ..Options::default()
    };
    let stages = pipeline::run(text, &options, Goal::Compile);
    if years.is_some() && stages.policy.as_ref().map(|p| p.kind) == Some(PolicyKind::Fees) {
        return Err(VectorsError::Unsupported(
            "--zone-years applies to notifications policies; this is a fees policy".into(),
        ));
    }
    let out = stages.output().map_err(VectorsError::Invalid)?;
    for_compiled(reference, &out.policy, &out.compiled, options.zone_years)
}

/// [`generate`] for a checked policy and its compiled form (a
/// notifications policy's zone built for `years`).
///
/// # Errors
/// [`VectorsError::Unsupported`] for an answer that cannot be written.
fn for_compiled<R: Reference>(
    reference: &R,
    policy: &Policy,
    compiled: &artifact::Compiled,
    years: (i32, i32),
) -> Result<Pack, VectorsError> {
    let fields = crate::compile::field_specs(policy);
    let (bytes, groups, decimals, zone_years) = match compiled {
        artifact::Compiled::Fees(table) => {
            let groups =
                fees::groups(reference, policy, table).map_err(VectorsError::Unsupported)?;
            let dp = crate::currency::display_decimals(table.currency());
            (artifact::encode(table), groups, dp, None)
        }
        artifact::Compiled::Notifications(compiled) => {
            let groups = notify::groups(reference, policy, compiled, years)
                .map_err(VectorsError::Unsupported)?;
            (artifact::encode_notify(compiled), groups, 0, Some(years))
        }
    };
    let (name, version, hash) = artifact::identify(&bytes)
        .map_err(|e| VectorsError::Unsupported(format!("the artifact does not read back: {e}")))?;
    Ok(Pack {
        policy: name,
        version,
        kind: policy.kind,
        hash,
        zone_years,
        fields,
        decimals,
        groups,
        artifact: bytes,
    })
}

/// A record as a JSON object.
pub type Record = Map<String, Json>;

/// A record given as a JSON object's text, as a map.
fn object(text: &str) -> Map<String, Json> {
    match serde_json::from_str(text) {
        Ok(Json::Object(m)) => m,
        _ => Map::new(),
    }
}
