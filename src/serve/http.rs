//! The HTTP endpoints (docs/serve.md).

use super::answer::{Answerer, Extras, Outcome};
use super::catalog::Engine;
use super::lines::BodyLines;
use super::metrics::{DecisionLabels, PolicyLabels, StatusLabels};
use super::App;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value as Json};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::sync::mpsc;

/// The router of every endpoint.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/v1/policies/{name}/eval", post(eval))
        .route("/v1/policies", get(policies))
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .method_not_allowed_fallback(wrong_method)
        .fallback(no_endpoint)
        .layer(middleware::from_fn_with_state(app.clone(), authorize))
        .with_state(app)
}

/// A JSON answer with `status`.
fn json_response(status: StatusCode, body: &Json) -> Response {
    let mut text = body.to_string();
    text.push('\n');
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        text,
    )
        .into_response()
}

/// An error answer: `{"error": message}` with `status`, counted.
fn refuse(app: &App, status: StatusCode, message: String) -> Response {
    app.metrics
        .refused
        .get_or_create(&StatusLabels {
            status: status.as_u16().to_string(),
        })
        .inc();
    json_response(status, &json!({ "error": message }))
}

/// Compares two byte strings in time that depends only on their lengths.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token of an `Authorization` header of the Bearer scheme, whose
/// name is case-insensitive (RFC 9110, section 11.1): `None` for another
/// scheme or no token.
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let space = value.iter().position(|&b| b == b' ')?;
    let (scheme, rest) = value.split_at(space);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let token = rest.trim_ascii();
    (!token.is_empty()).then_some(token)
}

/// With a token, every endpoint but the health checks needs
/// `Authorization: Bearer TOKEN`.
async fn authorize(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let open = matches!(request.uri().path(), "/healthz" | "/readyz");
    if let (Some(token), false) = (&app.token, open) {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| bearer(v.as_bytes()));
        // RFC 6750, section 3: a challenge names the error only when a
        // token was sent. The token itself is not repeated: it may be
        // another secret.
        let (why, challenge) = match given {
            Some(g) if same_secret(g, token) => return next.run(request).await,
            Some(_) => (
                "the bearer token was refused",
                "Bearer error=\"invalid_token\"",
            ),
            None => (
                "a bearer token is required (Authorization: Bearer TOKEN)",
                "Bearer",
            ),
        };
        let mut r = refuse(&app, StatusCode::UNAUTHORIZED, why.into());
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
        return drained(request.into_body(), r).await;
    }
    next.run(request).await
}

/// The most bytes of a refused request's body read (and dropped) so that
/// its connection can carry the client's next request.
const DRAIN_BYTES: usize = 64 << 10;

/// Marks `r` as the connection's last answer (`Connection: close`).
fn closing(r: &mut Response) {
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
}

/// `r`, the refusal of a request whose body was not needed, once the body
/// is read to its end and dropped: a connection whose last request's body
/// is left unread cannot carry the next one, and the server would close it
/// under a client that is about to reuse it. A body longer than
/// [`DRAIN_BYTES`] is left, and `r` says `Connection: close`.
async fn drained(body: Body, mut r: Response) -> Response {
    let mut data = body.into_data_stream();
    let mut read = 0usize;
    while let Some(chunk) = next_chunk(&mut data).await {
        read = read.saturating_add(chunk.map_or(usize::MAX, |c| c.len()));
        if read > DRAIN_BYTES {
            closing(&mut r);
            break;
        }
    }
    r
}

/// A path no endpoint serves: 404, a refusal like any.
async fn no_endpoint(State(app): State<Arc<App>>, request: Request) -> Response {
    let why = format!("no endpoint at `{}`", request.uri().path());
    let r = refuse(&app, StatusCode::NOT_FOUND, why);
    drained(request.into_body(), r).await
}

/// An endpoint asked with a method it does not answer: 405 (the `Allow`
/// header names those it does), a refusal like any.
async fn wrong_method(State(app): State<Arc<App>>, request: Request) -> Response {
    let why = format!(
        "`{}` does not answer {}",
        request.uri().path(),
        request.method()
    );
    let r = refuse(&app, StatusCode::METHOD_NOT_ALLOWED, why);
    drained(request.into_body(), r).await
}

async fn healthz() -> Response {
    json_response(StatusCode::OK, &json!({ "status": "alive" }))
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    let catalog = app.catalog();
    if catalog.policies.is_empty() {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({ "status": "no policy loaded", "failed": catalog.failures.len() }),
        );
    }
    json_response(
        StatusCode::OK,
        &json!({ "status": "ready", "policies": catalog.policies.len() }),
    )
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        app.metrics.text(),
    )
        .into_response()
}

async fn policies(State(app): State<Arc<App>>) -> Response {
    let catalog = app.catalog();
    let policies: Vec<Json> = catalog
        .policies
        .values()
        .map(|p| {
            let mut listed = p.listing();
            // With Redis, what a notifications policy does without it.
            if let (Some(redis), Engine::Notifications(_), Json::Object(m)) =
                (&app.redis, &p.engine, &mut listed)
            {
                m.insert("fail_mode".into(), redis.mode(&p.name).name().into());
            }
            listed
        })
        .collect();
    let failed: Vec<Json> = catalog.failures.iter().map(|f| f.listing()).collect();
    json_response(
        StatusCode::OK,
        &json!({ "state": app.state_listing(), "policies": policies, "failed": failed }),
    )
}

/// Whether a query string turns `name` on (`name`, `name=1`, `name=true`).
fn flag(query: Option<&str>, name: &str) -> bool {
    query.unwrap_or("").split('&').any(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, "1"));
        k == name && matches!(v, "1" | "true" | "yes" | "")
    })
}

/// Whether the body is JSON Lines.
fn is_ndjson(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|v| v == "application/x-ndjson" || v == "application/jsonl")
}

async fn eval(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let started = Instant::now();
    let extras = Extras {
        trace: flag(request.uri().query(), "trace"),
        explain: flag(request.uri().query(), "explain"),
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > app.limits.max_body_bytes) {
        // The body is not read: the connection cannot carry another request.
        let mut r = refuse(
            &app,
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is longer than the limit of {} bytes",
                app.limits.max_body_bytes
            ),
        );
        closing(&mut r);
        return r;
    }
    // One snapshot for the whole request: a reload during it is not seen.
    let Some(served) = app.serving(&name).await else {
        let r = refuse(
            &app,
            StatusCode::NOT_FOUND,
            format!("no policy named `{name}` is loaded"),
        );
        return drained(request.into_body(), r).await;
    };
    let body = request.into_body();
    if is_ndjson(&headers) {
        return stream(app, served, extras, body, started);
    }
    single(app, served, extras, body, started).await
}

/// The headers naming the policy that answered.
fn policy_headers(r: &mut Response, p: &super::catalog::Policy) {
    let h = r.headers_mut();
    for (name, value) in [
        ("tollgate-policy", p.name.clone()),
        ("tollgate-policy-version", p.version.to_string()),
        ("tollgate-policy-hash", p.hash.clone()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
}

/// Counts one line's outcome.
fn count(app: &App, policy: &str, outcome: &Outcome) {
    match outcome {
        Outcome::Decided(kind, rule) => app
            .metrics
            .decisions
            .get_or_create(&DecisionLabels {
                policy: policy.to_string(),
                outcome: (*kind).to_string(),
                rule: rule.clone().unwrap_or_default(),
            })
            .inc(),
        Outcome::Error => app
            .metrics
            .record_errors
            .get_or_create(&PolicyLabels {
                policy: policy.to_string(),
            })
            .inc(),
    };
}

/// The next chunk of a request body, `None` at its end.
async fn next_chunk(body: &mut axum::body::BodyDataStream) -> Option<Result<Bytes, axum::Error>> {
    std::future::poll_fn(|cx| Pin::new(&mut *body).poll_next(cx)).await
}

use futures_core::Stream as _;

/// One record: one JSON object, 200 for a decision, 400 for an error
/// line (the same object `eval` prints for it).
async fn single(
    app: Arc<App>,
    served: super::Serving,
    extras: Extras,
    body: Body,
    started: Instant,
) -> Response {
    let max = app.limits.max_line_bytes;
    let mut data = body.into_data_stream();
    let mut bytes: Vec<u8> = Vec::new();
    let mut too_long = false;
    while let Some(chunk) = next_chunk(&mut data).await {
        let Ok(chunk) = chunk else {
            return refuse(
                &app,
                StatusCode::BAD_REQUEST,
                "the request body could not be read".into(),
            );
        };
        if bytes.len() + chunk.len() > max + 1 {
            too_long = true;
            break;
        }
        bytes.extend_from_slice(&chunk);
    }
    // A record's own line end is not part of it.
    let line = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    too_long |= line.len() > max;
    let Some(mut answerer) = Answerer::new(
        served.policy(),
        served.state(),
        served.journal(),
        app.redis.as_ref().map(|r| (r, &app.metrics)),
        extras,
        max,
    ) else {
        return refuse(
            &app,
            StatusCode::INTERNAL_SERVER_ERROR,
            "the policy has no state".into(),
        );
    };
    let mut out = Vec::new();
    let outcome = answerer.answer(1, (!too_long).then_some(line), &mut out);
    if let Err(e) = tokio::task::block_in_place(|| answerer.commit()) {
        tracing::error!(error = %e, "a decision could not be journaled: not answered");
        return refuse(
            &app,
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{e}; the record was not answered"),
        );
    }
    count(&app, &served.policy().name, &outcome);
    let status = if outcome == Outcome::Error {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut r = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        out,
    )
        .into_response();
    policy_headers(&mut r, served.policy());
    app.metrics.latency.observe(started.elapsed().as_secs_f64());
    r
}

/// A body made of the chunks a task sends.
struct Chunks(mpsc::Receiver<Bytes>);

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|c| c.map(Ok))
    }
}

/// JSON Lines: the lines are answered as they arrive, and the answers
/// sent as they are made, in order.
fn stream(
    app: Arc<App>,
    served: super::Serving,
    extras: Extras,
    body: Body,
    started: Instant,
) -> Response {
    let (tx, rx) = mpsc::channel::<Bytes>(8);
    let mut r = (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        )],
        Body::from_stream(Chunks(rx)),
    )
        .into_response();
    policy_headers(&mut r, served.policy());
    tokio::spawn(async move {
        answer_stream(&app, &served, extras, body, &tx).await;
        app.metrics.latency.observe(started.elapsed().as_secs_f64());
    });
    r
}

/// Reads `body` line by line and sends the answers to `tx`.
async fn answer_stream(
    app: &App,
    served: &super::Serving,
    extras: Extras,
    body: Body,
    tx: &mpsc::Sender<Bytes>,
) {
    let max = app.limits.max_line_bytes;
    let max_body = app.limits.max_body_bytes;
    let Some(mut answerer) = Answerer::new(
        served.policy(),
        served.state(),
        served.journal(),
        app.redis.as_ref().map(|r| (r, &app.metrics)),
        extras,
        max,
    ) else {
        return;
    };
    let name = served.policy().name.clone();
    let mut data = body.into_data_stream();
    let mut lines = BodyLines::new(max, max_body);
    // Lines whose answers were sent.
    let mut sent = 0usize;
    let mut out = Vec::new();
    let answer = |answerer: &mut Answerer<'_>, out: &mut Vec<u8>, n: usize, line: Option<&[u8]>| {
        let outcome = answerer.answer(n, line, out);
        count(app, &name, &outcome);
    };
    let cut = loop {
        let Some(chunk) = next_chunk(&mut data).await else {
            lines.finish(|n, line| answer(&mut answerer, &mut out, n, line));
            break None;
        };
        let Ok(chunk) = chunk else {
            // The client went away: nothing more to answer.
            return;
        };
        let fed = lines.feed(&chunk, |n, line| answer(&mut answerer, &mut out, n, line));
        if let Err(cut) = fed {
            break Some(cut);
        }
        if !out.is_empty() {
            // The answers go only once the deliveries they announce are
            // journaled (with a state kept on disk).
            if let Err(e) = tokio::task::block_in_place(|| answerer.commit()) {
                unjournaled(app, &name, tx, e, sent + 1).await;
                return drain(&mut data, max_body.saturating_sub(lines.bytes())).await;
            }
            sent = lines.lines();
            if tx
                .send(Bytes::from(std::mem::take(&mut out)))
                .await
                .is_err()
            {
                return;
            }
        }
    };
    if !out.is_empty() {
        if let Err(e) = tokio::task::block_in_place(|| answerer.commit()) {
            return unjournaled(app, &name, tx, e, sent + 1).await;
        }
    }
    if let Some(cut) = cut {
        // The lines within the limit are answered; the first record not
        // wholly within it gets the error line, an error line like any.
        let line = json!({ "error": cut.message(), "record": cut.record });
        crate::cli::fee_lines::write_json(&mut out, line, None);
        count(app, &name, &Outcome::Error);
    }
    if !out.is_empty() {
        let _ = tx.send(Bytes::from(out)).await;
    }
}

/// Reads and drops what is left of a body whose answers ended early (at
/// most `left` bytes, what the body limit still allows), so that a client
/// still sending it reads the answer rather than a connection reset with
/// its data unread.
async fn drain(data: &mut axum::body::BodyDataStream, mut left: u64) {
    while left > 0 {
        match next_chunk(data).await {
            Some(Ok(chunk)) => left = left.saturating_sub(chunk.len() as u64),
            _ => return,
        }
    }
}

/// Ends a stream of `policy` whose decisions from record `n` on could not
/// be journaled: one error line instead of their answers, counted as any.
async fn unjournaled(app: &App, policy: &str, tx: &mpsc::Sender<Bytes>, e: String, n: usize) {
    tracing::error!(error = %e, "decisions could not be journaled: not answered");
    let mut line = Vec::new();
    let why = format!("{e}; this record and the rest are not answered");
    crate::cli::fee_lines::write_json(&mut line, json!({ "error": why, "record": n }), None);
    count(app, policy, &Outcome::Error);
    let _ = tx.send(Bytes::from(line)).await;
}
