//! The compare-and-set step a decision runs in Redis: one Lua script,
//! loaded once and called by its hash (`EVALSHA`), that writes a
//! decision's changes only if every key still holds what the decision was
//! made on (docs/serve.md, "One atomic step per decision").
//!
//! Each key costs the script one command in the common case: a key the
//! decision writes is set with `SET … GET`, which answers what it held
//! (`NX` for a key believed empty, so that a key found full is left as it
//! is), and a key only read is read with `GET` (or `EXISTS`). A cap's
//! key that holds something other than believed does not refuse the
//! decision when the decision stands on what it holds ([`super::stands`]):
//! the script then writes the delivery on that value itself. When another
//! key held something other than believed, the changes already made are
//! undone, and the script answers what every key holds.

use super::keys::Keys;
use super::stands::Stands;

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
/// | `c` | `OLD`, `NEW`, `TTL`, `FROM`, `AT`, `LEAST`, `MOST`, `FORGET` | `OLD` (empty: nothing) | a cap's key: sets it to `NEW` (empty: leaves it as it is), and stands on another value under a condition ([`super::stands`]) |
///
/// A `c` key that holds something other than `OLD` does not refuse the
/// decision if it holds deliveries (8 bytes each, little-endian, oldest
/// first) none after `AT`, of which between `LEAST` and `MOST` are at or
/// after `FROM`: the decision stands, and one that writes the key (`NEW`
/// not empty) writes instead what the key holds less its deliveries at or
/// before `FORGET`, plus one at `AT` (what the engine would write there).
///
/// Returns 1 when every key held what was believed (the changes are
/// written); `{1, V…}` when the changes are written and some `c` keys held
/// something else, `V` being, for each key in order, what such a key holds
/// now (an empty string for nothing) and `false` for the others. Otherwise
/// writes nothing and returns `{0, V…}`, what every key holds (an empty
/// string for nothing). Undoing needs no record of what was done but the
/// values `c` keys held: every key before the one found changed held what
/// was believed (`ARGV` says what) or, for a `c` key, what the script
/// kept; the undo sets those back, and the changed key back to what `SET …
/// GET` answered; a key set back is kept `TTL` ms from then (an undo can
/// keep a key longer than its last write would have, never shorter). An
/// error from Redis (a key of another type at one of these names) undoes
/// the changes made and is answered as the error.
pub(super) const CAS: &str = r"
local EXACT = 9007199254740992
local held = {}
local function put_back(k, was, ttl)
  if was == false then
    redis.call('DEL', k)
  else
    redis.call('SET', k, was, 'PX', ttl)
  end
end
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
    elseif op == 'c' then
      if ARGV[j + 2] ~= '' then put_back(KEYS[i], held[i], ARGV[j + 3]) end
      j = j + 9
    else
      redis.call('SET', KEYS[i], ARGV[j + 1], 'PX', ARGV[j + 2])
      j = j + 3
    end
  end
end
local function stands(was, j)
  if was == false then return tonumber(ARGV[j + 6]) <= 0 end
  local n = #was
  if n % 8 ~= 0 then return false end
  local from, at = tonumber(ARGV[j + 4]), tonumber(ARGV[j + 5])
  local counted, last, p = 0, -EXACT, 1
  while p <= n do
    local t
    t, p = struct.unpack('<i8', was, p)
    if t < last or t > at or t >= EXACT then return false end
    if t >= from then counted = counted + 1 end
    last = t
  end
  return counted >= tonumber(ARGV[j + 6]) and counted <= tonumber(ARGV[j + 7])
end
local function delivered(was, j)
  local forget, p = tonumber(ARGV[j + 8]), 1
  if was == false then was = '' end
  while p <= #was do
    local t, q = struct.unpack('<i8', was, p)
    if t > forget then break end
    p = q
  end
  return string.sub(was, p) .. struct.pack('<i8', tonumber(ARGV[j + 5]))
end
local j = 1
local bad = 0
local news = nil
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
  elseif op == 'c' then
    want, width = ARGV[j + 1], 9
    if want == '' then want = false end
    if ARGV[j + 2] ~= '' then
      ttl = ARGV[j + 3]
      was = redis.pcall('SET', k, ARGV[j + 2], 'PX', ttl, 'GET')
    else
      was = redis.pcall('GET', k)
    end
  else
    undo(i - 1)
    return redis.error_reply('unknown operation ' .. tostring(op))
  end
  if type(was) == 'table' then
    undo(i - 1)
    return was
  end
  if op == 'c' then held[i] = was end
  if was ~= want then
    if op == 'c' and stands(was, j) then
      local now = was or ''
      if ttl then
        now = delivered(was, j)
        redis.call('SET', k, now, 'PX', ttl)
      end
      news = news or {}
      news[i] = now
    else
      if ttl then put_back(k, was, ttl) end
      bad = i
      break
    end
  end
  j = j + width
end
if bad == 0 then
  if news == nil then return 1 end
  local out = {1}
  for i = 1, #KEYS do out[i + 1] = news[i] or false end
  return out
end
undo(bad - 1)
local now = redis.call('MGET', unpack(KEYS))
local out = {0}
for i = 1, #KEYS do out[i + 1] = now[i] or '' end
return out
";

/// The step's Redis commands without its checks, for measuring what the
/// checks cost (BENCHMARKS.md, section 14): the same `KEYS` and `ARGV` as
/// [`CAS`], one command per key as [`CAS`] spends in the common case, no
/// comparison, nothing undone. Returns 1. Never used to decide.
pub(super) const UNCHECKED: &str = r"
local j = 1
for i = 1, #KEYS do
  local k, op = KEYS[i], ARGV[j]
  if op == 'a' then
    redis.call('EXISTS', k)
    j = j + 1
  elseif op == 'h' then
    redis.call('GET', k)
    j = j + 2
  elseif op == 'n' then
    redis.call('SET', k, ARGV[j + 1], 'PX', ARGV[j + 2], 'NX', 'GET')
    j = j + 3
  elseif op == 'r' then
    redis.call('SET', k, ARGV[j + 2], 'PX', ARGV[j + 3], 'GET')
    j = j + 4
  elseif op == 'd' then
    redis.call('GETDEL', k)
    j = j + 3
  else
    if ARGV[j + 2] ~= '' then
      redis.call('SET', k, ARGV[j + 2], 'PX', ARGV[j + 3], 'GET')
    else
      redis.call('GET', k)
    end
    j = j + 9
  end
end
return 1
";

/// Adds the operation of one key to `cmd`: what the decision believed the
/// key held (`None`: nothing), what it leaves there (`None`: the key as
/// it was; `Some(None)`: nothing; `Some(Some(v))`: `v`, kept `ttl_ms`),
/// and, for a cap's key, the condition under which the decision stands on
/// another value.
pub(super) fn push_op(
    cmd: &mut redis::Cmd,
    believed: Option<&[u8]>,
    change: Option<Option<&[u8]>>,
    ttl_ms: i64,
    stands: Option<&Stands>,
) {
    match (believed, change, stands) {
        // A delivery never empties a key: `c` leaves it or sets it.
        (_, None | Some(Some(_)), Some(s)) => {
            let new = change.flatten().unwrap_or(&[]);
            cmd.arg("c")
                .arg(believed.unwrap_or(&[]))
                .arg(new)
                .arg(ttl_ms)
                .arg(s.from_ms)
                .arg(s.at_ms)
                .arg(s.least)
                .arg(s.most)
                .arg(s.forget_through_ms);
        }
        (None, None | Some(None), _) => {
            cmd.arg("a");
        }
        (Some(old), None, _) => {
            cmd.arg("h").arg(old);
        }
        (None, Some(Some(new)), _) => {
            cmd.arg("n").arg(new).arg(ttl_ms);
        }
        (Some(old), Some(Some(new)), _) => {
            cmd.arg("r").arg(old).arg(new).arg(ttl_ms);
        }
        (Some(old), Some(None), _) => {
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
    /// The changes are written. For each key in order, what a cap's key
    /// that held something other than believed holds now (`Some(None)`:
    /// nothing), the decision standing on it; `None` for the others.
    Written(Vec<Option<Option<Vec<u8>>>>),
    /// A key held something else: nothing was written; what each key holds.
    Changed(Vec<Option<Vec<u8>>>),
}

/// Reads the script's answer for `n` keys.
///
/// # Errors
/// An answer the script does not give.
pub(super) fn answered(answer: redis::Value, n: usize) -> Result<Answered, String> {
    let items = match answer {
        redis::Value::Int(1) => return Ok(Answered::Written(vec![None; n])),
        redis::Value::Array(items) => items,
        other => {
            return Err(format!(
                "unexpected answer from the state script: {other:?}"
            ))
        }
    };
    let mut items = items.into_iter();
    let written = match items.next() {
        Some(redis::Value::Int(1)) => true,
        Some(redis::Value::Int(0)) => false,
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
    let value = |v: redis::Value| match v {
        redis::Value::BulkString(b) if b.is_empty() => Ok(None),
        redis::Value::BulkString(b) => Ok(Some(b)),
        other => Err(format!("unexpected value from the state script: {other:?}")),
    };
    if written {
        items
            .map(|v| match v {
                // Lua's `false`: RESP2 answers nil, RESP3 a boolean.
                redis::Value::Nil | redis::Value::Boolean(false) => Ok(None),
                v => value(v).map(Some),
            })
            .collect::<Result<_, _>>()
            .map(Answered::Written)
    } else {
        items
            .map(value)
            .collect::<Result<_, _>>()
            .map(Answered::Changed)
    }
}
