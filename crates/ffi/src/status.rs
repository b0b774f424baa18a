//! The status every function returns.

use core::ffi::c_char;

/// What a call did: `TG_OK`, or why it did nothing.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum tg_status {
    /// Done.
    TG_OK = 0,
    /// A pointer argument that must not be NULL was NULL.
    TG_NULL_POINTER = 1,
    /// A handle argument is not a live handle of the type the function
    /// takes (a record given where a policy is expected).
    TG_BAD_HANDLE = 2,
    /// The policy is of the other kind (a fees policy given to
    /// `tg_state_new`, a notifications policy given to `tg_price`).
    TG_WRONG_KIND = 3,
    /// The record, fee or state was made for another policy handle.
    TG_WRONG_POLICY = 4,
    /// The artifact is damaged, truncated, of an unknown version or
    /// inconsistent: not loaded.
    TG_BAD_ARTIFACT = 5,
    /// The policy has no field of this name or index.
    TG_UNKNOWN_FIELD = 6,
    /// The value is of another type than the field's.
    TG_WRONG_TYPE = 7,
    /// The enum field has no variant of this name.
    TG_UNKNOWN_VARIANT = 8,
    /// A number refused by the records' number rules (malformed, more than
    /// 28 significant digits, not whole for an integer, out of range).
    TG_BAD_NUMBER = 9,
    /// Negative money for a field without refunds.
    TG_NEGATIVE_MONEY = 10,
    /// A timestamp's UTC offset is not within ±24 hours.
    TG_BAD_TIME = 11,
    /// A required field was not set.
    TG_MISSING_FIELD = 12,
    /// A string argument is not UTF-8.
    TG_BAD_UTF8 = 13,
    /// The caller's buffer is too short; where a size is reported, it says
    /// how many bytes are needed.
    TG_SHORT_BUFFER = 14,
    /// The amount is not a whole number of units at the scale asked for,
    /// or does not fit in 64 bits.
    TG_INEXACT = 15,
    /// The record gets no fee (no rule matches, two rules of a `unique`
    /// schedule match, or the arithmetic overflows): see the record's
    /// message.
    TG_NO_FEE = 16,
    /// The message could not be decided (too late, outside the zone's
    /// span, its id not remembered): see the record's message.
    TG_NOT_DECIDED = 17,
    /// The state can't be made for this policy and capacity.
    TG_CAPACITY = 18,
    /// The saved state is damaged, of another policy or version, or saved
    /// with other capacities: not restored, the state is unchanged.
    TG_BAD_STATE = 19,
    /// An argument is out of range: an index (of a component or a rule),
    /// an enum given as a number (`when_full`), no trusted key, or a state
    /// size of 0 where the policy needs room.
    TG_OUT_OF_RANGE = 20,
    /// Trusted keys were given and the artifact is not signed.
    TG_UNSIGNED = 21,
    /// The artifact is signed by a key that is not trusted.
    TG_UNKNOWN_KEY = 22,
    /// The artifact's signature does not verify: changed after signing.
    TG_BAD_SIGNATURE = 23,
    /// An older version of the installed policy.
    TG_ROLLBACK = 24,
    /// The installed version of the policy with other contents.
    TG_VERSION_REUSED = 25,
    /// The instant is at or after the end of the policy's activation window
    /// (on a terminal, and no successor is staged): the terminal needs an
    /// update.
    TG_EXPIRED = 26,
    /// The instant is before the policy takes effect (on a terminal, and no
    /// earlier policy is kept).
    TG_NOT_YET_EFFECTIVE = 27,
    /// The slot holds no policy (nothing staged, no previous policy kept).
    TG_EMPTY_SLOT = 28,
    /// The artifact is the version held already (current or staged): a
    /// successor needs a higher version.
    TG_NOT_NEWER = 29,
    /// The artifact holds another policy (by name) than the terminal runs.
    TG_OTHER_POLICY = 30,
    /// The record's instant belongs to another slot than the one given:
    /// ask `tg_terminal_route` for the slot first.
    TG_MISROUTED = 31,
    /// An internal error: the runtime reached a state its checks rule out
    /// (a bug in Tollgate, never an answer about the record): see the
    /// record's message, and report it.
    TG_INTERNAL = 32,
}

/// Every status, by its number.
const ALL: [tg_status; 33] = [
    tg_status::TG_OK,
    tg_status::TG_NULL_POINTER,
    tg_status::TG_BAD_HANDLE,
    tg_status::TG_WRONG_KIND,
    tg_status::TG_WRONG_POLICY,
    tg_status::TG_BAD_ARTIFACT,
    tg_status::TG_UNKNOWN_FIELD,
    tg_status::TG_WRONG_TYPE,
    tg_status::TG_UNKNOWN_VARIANT,
    tg_status::TG_BAD_NUMBER,
    tg_status::TG_NEGATIVE_MONEY,
    tg_status::TG_BAD_TIME,
    tg_status::TG_MISSING_FIELD,
    tg_status::TG_BAD_UTF8,
    tg_status::TG_SHORT_BUFFER,
    tg_status::TG_INEXACT,
    tg_status::TG_NO_FEE,
    tg_status::TG_NOT_DECIDED,
    tg_status::TG_CAPACITY,
    tg_status::TG_BAD_STATE,
    tg_status::TG_OUT_OF_RANGE,
    tg_status::TG_UNSIGNED,
    tg_status::TG_UNKNOWN_KEY,
    tg_status::TG_BAD_SIGNATURE,
    tg_status::TG_ROLLBACK,
    tg_status::TG_VERSION_REUSED,
    tg_status::TG_EXPIRED,
    tg_status::TG_NOT_YET_EFFECTIVE,
    tg_status::TG_EMPTY_SLOT,
    tg_status::TG_NOT_NEWER,
    tg_status::TG_OTHER_POLICY,
    tg_status::TG_MISROUTED,
    tg_status::TG_INTERNAL,
];

/// The name of status number `status`, as a static NUL-terminated string
/// (`"TG_OK"`); `"TG_UNKNOWN"` for a number that is no status. (It takes
/// an integer so that any value C passes is defined.)
#[no_mangle]
pub extern "C" fn tg_status_name(status: i32) -> *const c_char {
    let Some(status) = usize::try_from(status).ok().and_then(|i| ALL.get(i)) else {
        return c"TG_UNKNOWN".as_ptr();
    };
    let name: &'static core::ffi::CStr = match status {
        tg_status::TG_OK => c"TG_OK",
        tg_status::TG_NULL_POINTER => c"TG_NULL_POINTER",
        tg_status::TG_BAD_HANDLE => c"TG_BAD_HANDLE",
        tg_status::TG_WRONG_KIND => c"TG_WRONG_KIND",
        tg_status::TG_WRONG_POLICY => c"TG_WRONG_POLICY",
        tg_status::TG_BAD_ARTIFACT => c"TG_BAD_ARTIFACT",
        tg_status::TG_UNKNOWN_FIELD => c"TG_UNKNOWN_FIELD",
        tg_status::TG_WRONG_TYPE => c"TG_WRONG_TYPE",
        tg_status::TG_UNKNOWN_VARIANT => c"TG_UNKNOWN_VARIANT",
        tg_status::TG_BAD_NUMBER => c"TG_BAD_NUMBER",
        tg_status::TG_NEGATIVE_MONEY => c"TG_NEGATIVE_MONEY",
        tg_status::TG_BAD_TIME => c"TG_BAD_TIME",
        tg_status::TG_MISSING_FIELD => c"TG_MISSING_FIELD",
        tg_status::TG_BAD_UTF8 => c"TG_BAD_UTF8",
        tg_status::TG_SHORT_BUFFER => c"TG_SHORT_BUFFER",
        tg_status::TG_INEXACT => c"TG_INEXACT",
        tg_status::TG_NO_FEE => c"TG_NO_FEE",
        tg_status::TG_NOT_DECIDED => c"TG_NOT_DECIDED",
        tg_status::TG_CAPACITY => c"TG_CAPACITY",
        tg_status::TG_BAD_STATE => c"TG_BAD_STATE",
        tg_status::TG_OUT_OF_RANGE => c"TG_OUT_OF_RANGE",
        tg_status::TG_UNSIGNED => c"TG_UNSIGNED",
        tg_status::TG_UNKNOWN_KEY => c"TG_UNKNOWN_KEY",
        tg_status::TG_BAD_SIGNATURE => c"TG_BAD_SIGNATURE",
        tg_status::TG_ROLLBACK => c"TG_ROLLBACK",
        tg_status::TG_VERSION_REUSED => c"TG_VERSION_REUSED",
        tg_status::TG_EXPIRED => c"TG_EXPIRED",
        tg_status::TG_NOT_YET_EFFECTIVE => c"TG_NOT_YET_EFFECTIVE",
        tg_status::TG_EMPTY_SLOT => c"TG_EMPTY_SLOT",
        tg_status::TG_NOT_NEWER => c"TG_NOT_NEWER",
        tg_status::TG_OTHER_POLICY => c"TG_OTHER_POLICY",
        tg_status::TG_MISROUTED => c"TG_MISROUTED",
        tg_status::TG_INTERNAL => c"TG_INTERNAL",
    };
    name.as_ptr()
}
