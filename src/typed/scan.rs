//! The cursor of the JSON Lines batch reader: tokens read in place from a
//! line's bytes, and the numbers the reader parses straight into decimals.
//!
//! The line is not checked as UTF-8 first: the bytes outside strings must
//! be JSON's (all ASCII) for a token to be read, and a string's bytes are
//! checked only when one is not ASCII. So a line the reader accepts is
//! valid UTF-8, and one that is not never gets past [`Scan::string`].

use rust_decimal::Decimal;

/// A string read in place: its bytes between the quotes, without escapes
/// or control characters.
#[derive(Clone, Copy)]
pub(super) struct Span<'a> {
    /// The bytes between the quotes (checked as UTF-8 when one is not
    /// ASCII).
    pub(super) bytes: &'a [u8],
}

impl<'a> Span<'a> {
    /// The string as text.
    pub(super) fn text(self) -> Option<&'a str> {
        core::str::from_utf8(self.bytes).ok()
    }
}

/// A cursor over one line.
pub(super) struct Scan<'a> {
    b: &'a [u8],
    /// The position of the next byte.
    pub(super) i: usize,
}

impl<'a> Scan<'a> {
    /// A cursor at the start of `line`.
    pub(super) fn new(line: &'a [u8]) -> Scan<'a> {
        Scan { b: line, i: 0 }
    }

    /// Whether every byte has been read.
    pub(super) fn at_end(&self) -> bool {
        self.i == self.b.len()
    }

    /// The next byte.
    #[inline]
    pub(super) fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Skips JSON white space.
    #[inline]
    pub(super) fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// Steps over `c` if the line has it here.
    #[inline]
    pub(super) fn try_eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Steps over `c`; `None` if the line has something else here.
    #[inline]
    pub(super) fn eat(&mut self, c: u8) -> Option<()> {
        self.try_eat(c).then_some(())
    }

    /// Steps over `"word"` if the line has it here (`word` needs no
    /// escape).
    #[inline]
    pub(super) fn literal(&mut self, word: &[u8]) -> bool {
        let end = self.i + word.len() + 2;
        match self.b.get(self.i..end) {
            Some([b'"', mid @ .., b'"']) if same(mid, word) => {
                self.i = end;
                true
            }
            _ => false,
        }
    }

    /// A string without escapes or control characters; its bytes are
    /// checked as UTF-8 when one is not ASCII.
    #[inline]
    pub(super) fn string(&mut self) -> Option<Span<'a>> {
        self.eat(b'"')?;
        let start = self.i;
        let mut high = 0u8;
        loop {
            let c = *self.b.get(self.i)?;
            if c == b'"' {
                break;
            }
            if c < 0x20 || c == b'\\' {
                return None;
            }
            high |= c;
            self.i += 1;
        }
        let bytes = self.b.get(start..self.i)?;
        self.i += 1;
        if high >= 0x80 {
            core::str::from_utf8(bytes).ok()?;
        }
        Some(Span { bytes })
    }

    /// The bytes of a number as written (its grammar is not checked here).
    #[inline]
    pub(super) fn number(&mut self) -> &'a [u8] {
        let start = self.i;
        while matches!(
            self.b.get(self.i),
            Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
        ) {
            self.i += 1;
        }
        self.b.get(start..self.i).unwrap_or(&[])
    }

    /// `true` or `false`.
    #[inline]
    pub(super) fn boolean(&mut self) -> Option<bool> {
        if self.word(b"true") {
            Some(true)
        } else if self.word(b"false") {
            Some(false)
        } else {
            None
        }
    }

    /// Steps over a string, a number or a boolean (the value of a key
    /// the reader skips).
    pub(super) fn skip_scalar(&mut self) -> Option<()> {
        match self.b.get(self.i)? {
            b'"' => self.string().map(drop),
            b'-' | b'0'..=b'9' => {
                let text = core::str::from_utf8(self.number()).ok()?;
                tollgate_runtime::record::number::is_number(text).then_some(())
            }
            _ => self.boolean().map(drop),
        }
    }

    fn word(&mut self, w: &[u8]) -> bool {
        let end = self.i + w.len();
        let found = self.b.get(self.i..end) == Some(w);
        if found {
            self.i = end;
        }
        found
    }
}

/// Whether two short byte strings are equal: lengths, then bytes, compared
/// inline (names are a few bytes long; a library call costs more).
#[inline]
pub(super) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// A number written `-?(0|[1-9][0-9]*)(\.[0-9]+)?` with at most 18 digits
/// (any 18 digits fit an `i64`): its sign, its digits as an integer and
/// the number of its decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Simple {
    /// Whether a `-` opens it (`-0` included).
    pub(super) negative: bool,
    /// Its digits, without the point.
    pub(super) digits: i64,
    /// How many digits follow the point.
    pub(super) scale: u32,
}

/// The most digits [`simple`] reads.
const SIMPLE_DIGITS: usize = 18;

/// `text` as a [`Simple`] number; `None` for anything else, which
/// `number::parse_decimal` reads or refuses.
#[inline]
pub(super) fn simple(text: &[u8]) -> Option<Simple> {
    let (negative, body) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if body.len() > SIMPLE_DIGITS + 1 || body.first() == Some(&b'.') {
        return None;
    }
    let mut digits: i64 = 0;
    let mut count = 0usize;
    let mut point: Option<usize> = None;
    for (i, &c) in body.iter().enumerate() {
        match c {
            b'0'..=b'9' if count < SIMPLE_DIGITS => {
                digits = digits * 10 + i64::from(c - b'0');
                count += 1;
            }
            b'.' if point.is_none() => point = Some(i),
            _ => return None,
        }
    }
    // `01` is not the number grammar, nor `1.`; neither is an empty text.
    let leading_zero = body.first() == Some(&b'0') && matches!(body.get(1), Some(b'0'..=b'9'));
    if count == 0 || leading_zero || point == Some(body.len() - 1) {
        return None;
    }
    let scale = point.map_or(0, |p| body.len() - 1 - p);
    Some(Simple {
        negative,
        digits,
        scale: u32::try_from(scale).ok()?,
    })
}

impl Simple {
    /// The exact decimal `Decimal::from_str_exact` makes of the text: the
    /// scale is the number of decimals written, and `-0` is zero without
    /// a sign.
    #[inline]
    pub(super) fn decimal(self) -> Decimal {
        let signed = if self.negative {
            -self.digits
        } else {
            self.digits
        };
        Decimal::new(signed, self.scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_numbers_keep_their_scale() {
        for t in [
            "0",
            "-0",
            "-0.00",
            "12.50",
            "-3.000",
            "999999999999999999",
            "99999999999999999.9",
            "0.01",
            "0.00000000000000001",
        ] {
            let fast = simple(t.as_bytes()).unwrap().decimal();
            let exact = Decimal::from_str_exact(t).unwrap();
            assert_eq!(fast.to_string(), exact.to_string(), "{t}");
            assert_eq!(fast.scale(), exact.scale(), "{t}");
            assert_eq!(fast.is_sign_negative(), exact.is_sign_negative(), "{t}");
        }
        for t in [
            "01",
            "-01",
            "00.5",
            "1.",
            ".5",
            "-.5",
            "1e3",
            "-",
            "",
            ".",
            "1.2.3",
            "1234567890123456789",
            "0.1234567890123456789",
            "9223372036854775808",
            "99999999999999999999",
            "+1",
            "--1",
            "1-",
        ] {
            assert!(simple(t.as_bytes()).is_none(), "{t}");
        }
    }

    #[test]
    fn strings_are_read_in_place_and_checked() {
        let mut s = Scan::new("\"caf\u{e9}\" \"ab\"".as_bytes());
        assert_eq!(s.string().unwrap().text(), Some("caf\u{e9}"));
        s.ws();
        assert_eq!(s.string().unwrap().bytes, b"ab");
        assert!(s.at_end());
        for bad in [&b"\"caf\xe9\""[..], b"\"a\\n\"", b"\"a\tb\"", b"\"open"] {
            assert!(Scan::new(bad).string().is_none(), "{bad:?}");
        }
    }
}
