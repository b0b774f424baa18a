//! What went wrong with a call to Redis, in the words of a degraded line's
//! `state_error` and of the log: what the error's kind says happened (the
//! connection refused, lost, or timed out; the server unreachable), not a
//! guess.

use std::time::Duration;

/// What went wrong with a call to Redis at `server` (`HOST:PORT`), by the
/// error's kind; an error Redis answered keeps its own words.
pub(super) fn describe(e: &redis::RedisError, server: &str, timeout: Duration) -> String {
    if needs_password(e) {
        format!(
            "Redis at {server} needs a password (give it in the URL: redis://:PASSWORD@HOST:PORT/DB; Redis said: {e})"
        )
    } else if e.is_connection_refusal() {
        format!("Redis at {server} refused the connection ({e})")
    } else if e.is_timeout() {
        late(server, timeout)
    } else if e.is_connection_dropped() {
        format!("the connection to Redis at {server} was lost ({e})")
    } else if e.is_io_error() {
        format!("Redis at {server} is unreachable ({e})")
    } else {
        e.to_string()
    }
}

/// Whether Redis refused the call for want of a password: `NOAUTH`, or,
/// for a command of more than a few arguments (the step's script), the
/// protocol error Redis answers an unauthenticated client instead.
fn needs_password(e: &redis::RedisError) -> bool {
    e.code() == Some("NOAUTH") || e.to_string().contains("unauthenticated")
}

/// A call to Redis at `server` that took longer than `timeout`.
pub(super) fn late(server: &str, timeout: Duration) -> String {
    format!(
        "Redis at {server} did not answer within {} ms",
        timeout.as_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    fn io(kind: ErrorKind) -> String {
        let e = redis::RedisError::from(Error::new(kind, "os said so"));
        describe(&e, "h:1", Duration::from_millis(250))
    }

    #[test]
    fn each_kind_of_failure_is_named_for_what_happened() {
        assert!(io(ErrorKind::ConnectionRefused).starts_with("Redis at h:1 refused the connection"));
        assert_eq!(
            io(ErrorKind::TimedOut),
            "Redis at h:1 did not answer within 250 ms"
        );
        assert!(
            io(ErrorKind::ConnectionReset).starts_with("the connection to Redis at h:1 was lost")
        );
        assert!(io(ErrorKind::HostUnreachable).starts_with("Redis at h:1 is unreachable"));
        let unauthenticated = redis::RedisError::from((
            redis::ErrorKind::ResponseError,
            "Protocol error",
            "unauthenticated multibulk length".to_string(),
        ));
        assert!(describe(&unauthenticated, "h:1", Duration::from_millis(1))
            .starts_with("Redis at h:1 needs a password (give it in the URL"));
        let answered = redis::RedisError::from((redis::ErrorKind::TypeError, "WRONGTYPE"));
        assert!(describe(&answered, "h:1", Duration::from_millis(1)).contains("WRONGTYPE"));
    }
}
