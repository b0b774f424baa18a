//! The table of diagnostic codes. Each code's documentation is a file in
//! `docs/codes/`, compiled in, and printed by `tollgate explain CODE`. A
//! lint's code is also in the linter's registry (`lint::registry`), with
//! the unit that raises it.

use serde::{Serialize, Serializer};

macro_rules! codes {
    (
        errors { $($code:ident: $title:literal,)* }
        lints { $($lint:ident $name:literal $level:ident: $ltitle:literal,)* }
    ) => {
        /// A stable diagnostic code. Never renumbered; retired codes stay
        /// reserved. `E` codes are errors of the language; `L` codes are
        /// lints, each with a kebab-case name and a default level.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(
                #[doc = $title]
                $code,
            )*
            $(
                #[doc = $ltitle]
                $lint,
            )*
        }

        impl Code {
            /// Every code, in order: the errors, then the lints.
            pub const ALL: &'static [Code] = &[$(Code::$code,)* $(Code::$lint,)*];

            /// Every lint code, in order.
            pub const LINTS: &'static [Code] = &[$(Code::$lint,)*];

            /// The code as written: `E0101`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$code => stringify!($code),)*
                    $(Code::$lint => stringify!($lint),)*
                }
            }

            /// A short title: "unknown name".
            pub fn title(self) -> &'static str {
                match self {
                    $(Code::$code => $title,)*
                    $(Code::$lint => $ltitle,)*
                }
            }

            /// A lint's kebab-case name (`shadowed-rule`); `None` for errors.
            pub fn lint_name(self) -> Option<&'static str> {
                match self {
                    $(Code::$lint => Some($name),)*
                    _ => None,
                }
            }

            /// A lint's level when nothing changes it; errors are `Deny`.
            pub fn default_level(self) -> Level {
                match self {
                    $(Code::$lint => Level::$level,)*
                    _ => Level::Deny,
                }
            }

            /// The long explanation, in Markdown: the code's file in
            /// `docs/codes/`.
            pub fn explanation(self) -> &'static str {
                match self {
                    $(Code::$code => include_str!(concat!("../../docs/codes/", stringify!($code), ".md")),)*
                    $(Code::$lint => include_str!(concat!("../../docs/codes/", stringify!($lint), ".md")),)*
                }
            }
        }
    };
}

/// How a lint is reported: not at all, as a warning, or as an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Not reported.
    Allow,
    /// Reported as a warning.
    Warn,
    /// Reported as an error.
    Deny,
}

impl Level {
    /// The level named `text`: `allow`, `warn` or `deny`.
    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "allow" => Some(Level::Allow),
            "warn" => Some(Level::Warn),
            "deny" => Some(Level::Deny),
            _ => None,
        }
    }

    /// The level's name.
    pub fn name(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }
}

codes! {
    errors {
        E0001: "syntax error",
        E0002: "malformed literal",
        E0003: "source is not valid UTF-8",
        E0004: "source exceeds a size or nesting limit",
        E0101: "unknown name",
        E0102: "duplicate definition",
        E0103: "unknown enum variant",
        E0104: "definition refers to itself",
        E0201: "type mismatch",
        E0202: "unit mismatch",
        E0203: "value out of range",
        E0204: "cap below minimum",
        E0205: "unknown time zone",
        E0206: "currency mismatch",
        E0207: "condition must compare a field with a value",
        E0301: "declaration not allowed here",
        E0302: "missing declaration",
        E0303: "misplaced otherwise",
        E0304: "tier bands out of order",
        E0305: "empty quiet window",
        E0401: "policy cannot be compiled",
        E0402: "rules of a unique schedule overlap",
        E0403: "decision table too large",
        E0501: "unknown lint",
        E0601: "test file does not fit its policy",
        E0602: "unknown field in a test record",
        E0603: "malformed value in a test record",
        E0604: "unknown schedule or rule in a test",
        E0605: "test failed",
        E0606: "bad test name",
        E0701: "record after the policy's activation window",
        E0702: "record before the policy takes effect",
    }
    lints {
        L0101 "shadowed-rule" Warn: "rule no input can reach",
        L0102 "overlap" Deny: "rules of a unique schedule overlap",
        L0103 "partly-shadowed" Allow: "rule partly shadowed by an earlier rule with another fee",
        L0104 "gap" Deny: "inputs no rule of a schedule covers",
        L0105 "duplicate-rule" Warn: "rule repeats an earlier rule",
        L0106 "unsatisfiable" Warn: "condition no input meets",
        L0107 "mergeable-rules" Warn: "neighbouring rules could be one",
        L0108 "unused-field" Warn: "field no rule reads",
        L0109 "unused-variant" Warn: "enum variant no rule selects",
        L0110 "unused-name" Warn: "constant or condition never used",
        L0111 "undecided" Deny: "analysis the linter could not complete",
        L0201 "outside-declared-range" Deny: "value outside a range the policy declares",
        L0202 "fee-exceeds-amount" Warn: "fixed fee exceeds every amount the rule applies to",
        L0203 "always-quiet" Deny: "quiet windows cover the whole day",
        L0204 "zero-cap" Warn: "cap of 0 blocks every message it covers",
        L0205 "adjustable-looser" Warn: "merchant setting can loosen the policy's own limit",
        L0206 "exempt-from-cap" Warn: "always-deliver rule makes another rule inert",
        L0207 "implausible-value" Warn: "fee value outside the plausible range",
        L0301 "confusable" Warn: "identifier with look-alike or mixed-script characters",
        L0302 "full-width-punctuation" Warn: "full-width punctuation where ASCII is meant",
        L0303 "tab" Warn: "tab character",
        L0304 "trailing-whitespace" Warn: "trailing whitespace",
    }
}

impl Code {
    /// The code named `text`: `E0101` (case-insensitive; `0101` also
    /// works), `L0101`, or a lint's name (`shadowed-rule`).
    pub fn parse(text: &str) -> Option<Code> {
        let text = text.trim();
        if let Some(lint) = Code::lint(text) {
            return Some(lint);
        }
        let upper = text.to_ascii_uppercase();
        let wanted = if upper.starts_with('E') || upper.starts_with('L') {
            upper
        } else {
            format!("E{upper}")
        };
        Code::ALL.iter().copied().find(|c| c.as_str() == wanted)
    }

    /// The lint named `name` or coded `code` (`shadowed-rule`, `L0101`).
    pub fn lint(text: &str) -> Option<Code> {
        Code::LINTS
            .iter()
            .copied()
            .find(|c| c.lint_name() == Some(text) || c.as_str().eq_ignore_ascii_case(text))
    }

    /// Whether this is a lint (an `L` code).
    pub fn is_lint(self) -> bool {
        self.lint_name().is_some()
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_titled_explanation() {
        for code in Code::ALL {
            let doc = code.explanation();
            let heading = match code.lint_name() {
                Some(name) => format!("# {} {name}: {}", code.as_str(), code.title()),
                None => format!("# {}: {}", code.as_str(), code.title()),
            };
            assert!(
                doc.starts_with(&heading),
                "{code}: doc must start with `{heading}`"
            );
            assert!(doc.contains("## Example"), "{code}: doc needs an example");
        }
    }

    #[test]
    fn codes_parse_back() {
        for code in Code::ALL {
            assert_eq!(Code::parse(code.as_str()), Some(*code));
        }
        assert_eq!(Code::parse("e0101"), Some(Code::E0101));
        assert_eq!(Code::parse("0101"), Some(Code::E0101));
        assert_eq!(Code::parse("E9999"), None);
    }
}
