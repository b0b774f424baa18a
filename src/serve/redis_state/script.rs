//! The compare-and-set step a decision runs in Redis: one Lua script,
//! loaded once and called by its hash (`EVALSHA`), that writes a
//! decision's changes only if every key still holds what the decision was
//! made on (docs/serve.md, "One atomic step per decision").
//!
//! Each key costs the script one command in the common case: a key the
//! decision writes is set with `SET … GET`, which answers what it held
//! (`NX` for a key believed empty, so that a key found full is left as it
//! is), and a key only read is read with `GET` (or `EXISTS`). When a key
//! held something other than believed, the changes already made are
//! undone, and the script answers what every key holds.

use super::keys::Keys;

/// The script. `KEYS` are the decision's keys; `ARGV` holds, for each key
/// in turn, an operation and its operands:
///
/// | operation | operands | the key is believed to hold | and the decision |
/// |---|---|---|---|
/// | `a` | | nothing | leaves it empty |
/// | `h` | `OLD` | `OLD` | leaves it as it is |
/// | `n` | `NEW`, `TTL` | nothing | sets it to `NEW`, kept `TTL` ms |
/// | `r` | `OLD`, `NEW`, `TTL` | `OLD` | sets it to `NEW`, kept `TTL` ms |
/// | `d` | `OLD`, `TTL` | `OLD` | deletes it |
///
/// Returns 1 when every key held what was believed (the changes are
/// written). Otherwise writes nothing and returns what every key holds, in
/// order (an empty string for nothing). Undoing needs no record of what was
/// done: every key before the one found changed held what was believed
/// (`ARGV` says what), so the undo sets those back from `ARGV` and the
/// changed key back to what `SET … GET` answered; a key set back is kept
/// `TTL` ms from then (an undo can keep a key longer than its last write
/// would have, never shorter). An error from Redis (a key of another type
/// at one of these names) undoes the changes made and is answered as the
/// error.
pub(super) const CAS: &str = r"
local function undo(upto)
  local j = 1
  for i = 1, upto do
    local op = ARGV[j]
    if op == 'a' then j = j + 1
    elseif op == 'h' then j = j + 2
    elseif op == 'n' then
      redis.call('DEL', KEYS[i])
      j = j + 3
    elseif op == 'r' then
      redis.call('SET', KEYS[i], ARGV[j + 1], 'PX', ARGV[j + 3])
      j = j + 4
    else
      redis.call('SET', KEYS[i], ARGV[j + 1], 'PX', ARGV[j + 2])
      j = j + 3
    end
  end
end
local function put_back(k, was, ttl)
  if was == false then
    redis.call('DEL', k)
  else
    redis.call('SET', k, was, 'PX', ttl)
  end
end
local j = 1
local bad = 0
for i = 1, #KEYS do
  local k, op = KEYS[i], ARGV[j]
  local was, want, ttl, width
  if op == 'a' then
    was, want, width = redis.pcall('EXISTS', k), 0, 1
  elseif op == 'h' then
    was, want, width = redis.pcall('GET', k), ARGV[j + 1], 2
  elseif op == 'n' then
    was, want, width = redis.pcall('SET', k, ARGV[j + 1], 'PX', ARGV[j + 2], 'NX', 'GET'), false, 3
  elseif op == 'r' then
    was, want, ttl, width = redis.pcall('SET', k, ARGV[j + 2], 'PX', ARGV[j + 3], 'GET'), ARGV[j + 1], ARGV[j + 3], 4
  elseif op == 'd' then
    was, want, ttl, width = redis.pcall('GETDEL', k), ARGV[j + 1], ARGV[j + 2], 3
  else
    undo(i - 1)
    return redis.error_reply('unknown operation ' .. tostring(op))
  end
  if type(was) == 'table' then
    undo(i - 1)
    return was
  end
  if was ~= want then
    if ttl then put_back(k, was, ttl) end
    bad = i
    break
  end
  j = j + width
end
if bad == 0 then return 1 end
undo(bad - 1)
local now = redis.call('MGET', unpack(KEYS))
for i = 1, #KEYS do
  if now[i] == false then now[i] = '' end
end
return now
";

/// Adds the operation of one key to `cmd`: what the decision believed the
/// key held (`None`: nothing), and what it leaves there (`None`: the key
/// as it was; `Some(None)`: nothing; `Some(Some(v))`: `v`, kept `ttl_ms`).
pub(super) fn push_op(
    cmd: &mut redis::Cmd,
    believed: Option<&[u8]>,
    change: Option<Option<&[u8]>>,
    ttl_ms: i64,
) {
    match (believed, change) {
        (None, None | Some(None)) => {
            cmd.arg("a");
        }
        (Some(old), None) => {
            cmd.arg("h").arg(old);
        }
        (None, Some(Some(new))) => {
            cmd.arg("n").arg(new).arg(ttl_ms);
        }
        (Some(old), Some(Some(new))) => {
            cmd.arg("r").arg(old).arg(new).arg(ttl_ms);
        }
        (Some(old), Some(None)) => {
            cmd.arg("d").arg(old).arg(ttl_ms);
        }
    }
}

/// The `EVALSHA` command of the script (`hash`) for `keys`, whose
/// operations the caller then adds with [`push_op`], one per key in order.
pub(super) fn command(hash: &str, keys: &Keys) -> redis::Cmd {
    let mut cmd = redis::Cmd::with_capacity(2 + 5 * keys.slots.len(), 512);
    cmd.arg("EVALSHA").arg(hash).arg(keys.slots.len());
    for slot in &keys.slots {
        cmd.arg(keys.name(slot));
    }
    cmd
}

/// What the script answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Answered {
    /// Every key held what was believed: the changes are written.
    Written,
    /// A key held something else: nothing was written; what each key holds.
    Changed(Vec<Option<Vec<u8>>>),
}

/// Reads the script's answer for `n` keys.
///
/// # Errors
/// An answer the script does not give.
pub(super) fn answered(answer: redis::Value, n: usize) -> Result<Answered, String> {
    let items = match answer {
        redis::Value::Int(1) => return Ok(Answered::Written),
        redis::Value::Array(items) => items,
        other => {
            return Err(format!(
                "unexpected answer from the state script: {other:?}"
            ))
        }
    };
    if items.len() != n {
        return Err(format!(
            "the state script answered {} values for {n} keys",
            items.len()
        ));
    }
    items
        .into_iter()
        .map(|v| match v {
            redis::Value::BulkString(b) if b.is_empty() => Ok(None),
            redis::Value::BulkString(b) => Ok(Some(b)),
            other => Err(format!("unexpected value from the state script: {other:?}")),
        })
        .collect::<Result<_, _>>()
        .map(Answered::Changed)
}
