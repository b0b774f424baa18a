//! Loading the policy directory, at start and again whenever a file in it
//! changes (watched) or the process gets SIGHUP.
//!
//! The directory is read, checked and compiled off the request path; the
//! new set of policies then replaces the old one whole. A file that fails
//! keeps the version it last loaded serving (the failure is listed and
//! logged); a file that is gone takes its policy with it. A notifications
//! policy keeps its throttle state across versions: the state is keyed by
//! policy name, and carried rule by rule to a version that changes its
//! rules.

use super::catalog::{self, Catalog, Engine, Failure, Policy};
use super::floors;
use super::redis_state::FailMode;
use super::shards::ShardedState;
use super::{App, Gate};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Only one reload runs at a time.
static RELOADING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Reads the directory again and swaps in what loaded.
///
/// # Errors
/// The directory cannot be read (the policies served stay as they were).
pub async fn reload(app: &Arc<App>) -> std::io::Result<()> {
    let _one = RELOADING.lock().await;
    let dir = app.dir.clone();
    let keys = app.trusted_keys.clone();
    let scan = tokio::task::spawn_blocking(move || catalog::scan(&dir, &keys))
        .await
        .map_err(std::io::Error::other)??;
    let old = app.catalog();
    let mut policies: BTreeMap<String, Arc<Policy>> = scan
        .policies
        .into_iter()
        .map(|(name, p)| (name, Arc::new(p)))
        .collect();
    // A failing file keeps its last good version.
    for (name, p) in &old.policies {
        let failing = scan.failures.iter().any(|f| f.file == p.file);
        if failing && !policies.contains_key(name) {
            policies.insert(name.clone(), p.clone());
        }
    }
    let mut failures = scan.failures;
    apply_floor(&old, &mut policies, &mut failures);
    if let Some(dir) = &app.state_dir {
        tokio::task::block_in_place(|| {
            apply_persisted_floors(dir, &old, &mut policies, &mut failures);
        });
    }
    let fresh_failures = failures
        .iter()
        .filter(|f| {
            !old.failures
                .iter()
                .any(|o| o.file == f.file && o.error == f.error)
        })
        .count();
    app.metrics.reload_failures.inc_by(fresh_failures as u64);
    for f in &failures {
        tracing::warn!(file = %f.file, error = %f.error, "policy file failed to load; the last good version (if any) keeps serving");
    }
    // The gates first: a request that finds a notifications policy in the
    // new catalog finds its new version in the gate.
    let gates: Vec<(String, Arc<Policy>)> = policies
        .iter()
        .filter(|(_, p)| matches!(p.engine, Engine::Notifications(_)))
        .map(|(n, p)| (n.clone(), p.clone()))
        .collect();
    let mut gave_up = false;
    for (name, policy) in gates {
        let existing = app
            .gates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&name)
            .cloned();
        match existing {
            None => {
                let gate = match open_gate(app, &policy).await {
                    Ok(g) => g,
                    Err(error) => {
                        tracing::error!(policy = %name, %error, "cannot open the policy's throttle state; not served");
                        failures.push(Failure {
                            file: policy.file.clone(),
                            at: catalog::now(),
                            diagnostics: serde_json::json!([]),
                            error,
                        });
                        policies.remove(&name);
                        continue;
                    }
                };
                app.gates
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(name, Arc::new(tokio::sync::RwLock::new(gate)));
            }
            Some(gate) => {
                let current = gate.read().await.current();
                if current.hash == policy.hash {
                    continue;
                }
                if !swap(&name, &gate, &current, &policy).await {
                    // The old version keeps serving, and is listed.
                    policies.insert(name, current);
                    gave_up = true;
                }
            }
        }
    }
    {
        let mut gates = app
            .gates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        gates.retain(|name, _| policies.contains_key(name));
    }
    for (name, p) in &policies {
        let changed = old.policies.get(name).is_none_or(|o| o.hash != p.hash);
        if changed {
            tracing::info!(policy = %name, version = p.version, hash = %p.hash, file = %p.file, "serving");
        }
    }
    if let Some(dir) = &app.state_dir {
        tokio::task::block_in_place(|| persist_floors(dir, &policies));
    }
    warn_of_unknown_fail_modes(app, &policies);
    app.metrics.policies.set(policies.len() as i64);
    failures.sort_by(|a, b| a.file.cmp(&b.file));
    let next = Arc::new(Catalog { policies, failures });
    *app.catalog
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = next;
    app.metrics.reloads.inc();
    if gave_up {
        // Try again soon, file change or not.
        app.again.notify_one();
    }
    Ok(())
}

/// How long a new version that changes the state's layout waits for the
/// requests deciding with the old one (new requests wait behind it).
const SWAP_WAIT: Duration = Duration::from_secs(10);

/// A policy as its state is laid out: the fingerprint of its saved state
/// but for the version.
fn layout(policy: &tollgate_runtime::notify::NotifyPolicy) -> u64 {
    crate::cli::state::journal::fingerprint(&policy.clone().with_version(0))
}

/// Puts `new` in the place of `old` in `gate`; `false` when it could not
/// (the old version keeps serving).
async fn swap(
    name: &str,
    gate: &tokio::sync::RwLock<Gate>,
    old: &Arc<Policy>,
    new: &Arc<Policy>,
) -> bool {
    let (Engine::Notifications(was), Engine::Notifications(next)) = (&old.engine, &new.engine)
    else {
        return false;
    };
    let fingerprint = crate::cli::state::journal::fingerprint;
    let replace = |g: &Gate| {
        *g.policy
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = new.clone();
        tracing::info!(policy = %name, from = old.version, to = new.version, hash = %new.hash, "new version");
    };
    if layout(was) == layout(next) {
        // The same layout: requests with either version decide on the
        // same state. Kept on disk, the snapshot and journal are the new
        // version's before it decides.
        let g = gate.read().await;
        if let (Some(journal), true) = (&g.journal, fingerprint(was) != fingerprint(next)) {
            let saved = tokio::task::block_in_place(|| journal.checkpoint(next, &g.state, true));
            if let Err(e) = saved {
                tracing::error!(policy = %name, error = %e, "cannot save the state for the new version; the old one keeps serving");
                return false;
            }
        }
        replace(&g);
        return true;
    }
    // Waits for the requests deciding with the old version.
    let Ok(g) = tokio::time::timeout(SWAP_WAIT, gate.write()).await else {
        tracing::warn!(policy = %name, "requests held the old version too long; the new one waits for the next reload");
        return false;
    };
    if let Some(journal) = &g.journal {
        if let Err(e) = tokio::task::block_in_place(|| journal.sync(u64::MAX)) {
            tracing::error!(policy = %name, error = %e, "cannot write the journal; the old version keeps serving");
            return false;
        }
    }
    for dropped in g.state.carry(was, next) {
        tracing::warn!(policy = %name, rule = %dropped, "throttle state dropped for a changed rule");
    }
    if let Some(journal) = &g.journal {
        // The snapshot and journal now belong to the new version.
        let saved = tokio::task::block_in_place(|| journal.checkpoint(next, &g.state, true));
        if let Err(e) = saved {
            tracing::error!(policy = %name, error = %e, "cannot save the carried state; its journal keeps the deliveries");
        }
    }
    replace(&g);
    true
}

/// The gate of a notifications policy served for the first time: its
/// state empty, or, with a state directory, loaded from it (locked for the
/// process's life).
async fn open_gate(app: &App, policy: &Arc<Policy>) -> Result<Gate, String> {
    let (Some(dir), Engine::Notifications(p)) = (&app.state_dir, &policy.engine) else {
        return Ok(Gate {
            policy: std::sync::RwLock::new(policy.clone()),
            state: ShardedState::new(),
            journal: None,
        });
    };
    let path = super::durable::state_path(dir, &policy.name);
    let owned = p.clone();
    let (journal, state) =
        tokio::task::spawn_blocking(move || super::durable::Journal::open(&owned, &path))
            .await
            .map_err(|e| e.to_string())??;
    Ok(Gate {
        policy: std::sync::RwLock::new(policy.clone()),
        state: ShardedState::from_state(state),
        journal: Some(journal),
    })
}

/// Starts reloading on SIGHUP (`signal`, registered by the caller before
/// the service announced itself) and, when `watch`, on changes in the
/// directory; the watcher, kept alive by the caller.
pub fn watch(
    app: Arc<App>,
    watch: bool,
    mut signal: tokio::signal::unix::Signal,
) -> Option<notify::RecommendedWatcher> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
    let hup = tx.clone();
    tokio::spawn(async move {
        while signal.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading");
            let _ = hup.try_send(());
        }
    });
    let reloader = app.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                changed = rx.recv() => {
                    if changed.is_none() {
                        return;
                    }
                    // Let a burst of changes (an editor's save) settle first.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                () = reloader.again.notified() => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            while rx.try_recv().is_ok() {}
            if let Err(e) = reload(&reloader).await {
                tracing::warn!(error = %e, "reload failed: cannot read the policy directory");
            }
        }
    });
    if !watch {
        return None;
    }
    use notify::Watcher as _;
    let mut watcher =
        match notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if event.is_ok_and(|e| !e.kind.is_access()) {
                let _ = tx.try_send(());
            }
        }) {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch the policy directory; SIGHUP reloads it");
                return None;
            }
        };
    if let Err(e) = watcher.watch(&app.dir, notify::RecursiveMode::Recursive) {
        tracing::warn!(error = %e, "cannot watch the policy directory; SIGHUP reloads it");
        return None;
    }
    Some(watcher)
}

/// The floor of what is served: a reloaded policy at a lower version than
/// the one serving is a rollback, and at the same version with another
/// content hash a changed policy that kept its version; either is refused
/// and listed, and the version serving keeps serving.
fn apply_floor(
    old: &Catalog,
    policies: &mut BTreeMap<String, Arc<Policy>>,
    failures: &mut Vec<Failure>,
) {
    for (name, serving) in &old.policies {
        let Some(new) = policies.get(name) else {
            continue;
        };
        let Some(why) = floors::refusal(
            name,
            &new.file,
            (new.version, &new.hash),
            (serving.version, &serving.hash),
            "serving",
        ) else {
            continue;
        };
        failures.push(Failure {
            file: new.file.clone(),
            at: new.loaded_at.clone(),
            diagnostics: serde_json::json!([]),
            error: why,
        });
        policies.insert(name.clone(), serving.clone());
    }
    failures.sort_by(|a, b| a.file.cmp(&b.file));
}

/// The floors persisted in the state directory `dir`, for what is not
/// served yet (after a restart): a policy below its floor, or at its
/// floor's version with another content hash, is refused and listed, and
/// not served (the version serving, if any, keeps serving).
fn apply_persisted_floors(
    dir: &std::path::Path,
    old: &Catalog,
    policies: &mut BTreeMap<String, Arc<Policy>>,
    failures: &mut Vec<Failure>,
) {
    let mut refused = Vec::new();
    for (name, new) in policies.iter() {
        // A floor that cannot be read refuses the new file too: the
        // version serving (if any) keeps serving.
        let why = floors::read(dir, name).map(|floor| {
            floor.and_then(|(version, hash)| {
                floors::refusal(
                    name,
                    &new.file,
                    (new.version, &new.hash),
                    (version, &hash),
                    "served before",
                )
            })
        });
        if let Some(error) = why.unwrap_or_else(Some) {
            failures.push(Failure {
                file: new.file.clone(),
                at: new.loaded_at.clone(),
                diagnostics: serde_json::json!([]),
                error,
            });
            refused.push(name.clone());
        }
    }
    for name in refused {
        match old.policies.get(&name) {
            Some(serving) => policies.insert(name, serving.clone()),
            None => policies.remove(&name),
        };
    }
    failures.sort_by(|a, b| a.file.cmp(&b.file));
}

/// Persists the floor of each policy served whose floor in `dir` is
/// another version or content; a floor that cannot be written is logged
/// (the policy serves; the floor it had stays).
fn persist_floors(dir: &std::path::Path, policies: &BTreeMap<String, Arc<Policy>>) {
    for (name, p) in policies {
        let kept = floors::read(dir, name).ok().flatten();
        if kept
            .as_ref()
            .is_some_and(|(v, h)| *v == p.version && *h == p.hash)
        {
            continue;
        }
        if let Err(error) = floors::write(dir, name, p.version, &p.hash) {
            tracing::error!(policy = %name, %error, "cannot persist the policy's floor; a restart may accept an older version");
        }
    }
}

/// Logs a warning for each policy a fail-mode flag names that is no
/// notifications policy loaded (a typo would leave it in the default mode).
fn warn_of_unknown_fail_modes(app: &App, policies: &BTreeMap<String, Arc<Policy>>) {
    let Some(redis) = &app.redis else { return };
    let mut named: Vec<(&String, FailMode)> = redis.modes.iter().map(|(n, m)| (n, *m)).collect();
    named.sort_unstable_by_key(|(n, _)| n.as_str());
    for (name, mode) in named {
        let known = policies
            .get(name)
            .is_some_and(|p| matches!(p.engine, Engine::Notifications(_)));
        if !known {
            tracing::warn!(policy = %name, "--fail-{} names no notifications policy loaded", mode.name());
        }
    }
}
