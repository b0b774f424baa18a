//! The table of diagnostic codes. Each code's documentation is a file in
//! `docs/codes/`, compiled in, and printed by `tollgate explain CODE`.

use serde::{Serialize, Serializer};

macro_rules! codes {
    ($($code:ident: $title:literal,)*) => {
        /// A stable diagnostic code. Never renumbered; retired codes stay reserved.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(
                #[doc = $title]
                $code,
            )*
        }

        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$code,)*];

            /// The code as written: `E0101`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$code => stringify!($code),)*
                }
            }

            /// A short title: "unknown name".
            pub fn title(self) -> &'static str {
                match self {
                    $(Code::$code => $title,)*
                }
            }

            /// The long explanation, in Markdown.
            pub fn explanation(self) -> &'static str {
                match self {
                    $(Code::$code => include_str!(concat!("../../docs/codes/", stringify!($code), ".md")),)*
                }
            }
        }
    };
}

codes! {
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
}

impl Code {
    /// The code named `text` (`E0101`, case-insensitive; `0101` also works).
    pub fn parse(text: &str) -> Option<Code> {
        let upper = text.trim().to_ascii_uppercase();
        let wanted = if upper.starts_with('E') {
            upper
        } else {
            format!("E{upper}")
        };
        Code::ALL.iter().copied().find(|c| c.as_str() == wanted)
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
            let heading = format!("# {}: {}", code.as_str(), code.title());
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
