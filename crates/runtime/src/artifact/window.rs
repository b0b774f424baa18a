//! The activation window in an artifact (format 4): after the kind byte,
//! a presence byte (bit 0: a start, bit 1: an end; no other bits, and not
//! zero: a policy without a window is written in format 3), then each
//! instant present as Unix ms (`i64`) and its offset in seconds (`i32`).

use super::{err, ArtifactError, ArtifactErrorKind, Reader, Writer};
use crate::activation::{Stamp, Window, WindowError};

const HAS_FROM: u8 = 1;
const HAS_UNTIL: u8 = 2;

impl Writer {
    /// A window that is not [`Window::ALWAYS`].
    pub(super) fn window(&mut self, w: &Window) {
        let flags = u8::from(w.from.is_some()) * HAS_FROM + u8::from(w.until.is_some()) * HAS_UNTIL;
        self.u8(flags);
        for s in w.from.iter().chain(w.until.iter()) {
            self.i64(s.unix_ms);
            self.i32(s.offset_secs);
        }
    }
}

impl Reader<'_> {
    /// A window, checked: present, in range, and not empty.
    pub(super) fn window(&mut self) -> Result<Window, ArtifactError> {
        let at = self.offset();
        let flags = self.u8()?;
        if flags == 0 || flags & !(HAS_FROM | HAS_UNTIL) != 0 {
            return Err(err(ArtifactErrorKind::BadTag, at));
        }
        let mut stamp = |present: bool| -> Result<Option<Stamp>, ArtifactError> {
            if !present {
                return Ok(None);
            }
            let unix_ms = self.i64()?;
            let offset_secs = self.i32()?;
            Ok(Some(Stamp {
                unix_ms,
                offset_secs,
            }))
        };
        let from = stamp(flags & HAS_FROM != 0)?;
        let until = stamp(flags & HAS_UNTIL != 0)?;
        let w = Window { from, until };
        w.validate().map_err(|e| {
            err(
                ArtifactErrorKind::Invalid(match e {
                    WindowError::OutOfRange => "an activation instant is out of range",
                    WindowError::Empty => "the activation window ends before it starts",
                }),
                at,
            )
        })?;
        Ok(w)
    }
}
