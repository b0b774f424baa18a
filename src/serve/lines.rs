//! The lines of a JSON Lines request body, as its chunks arrive: each line
//! numbered from 1, a line over `--max-line-bytes` skipped to its end, and
//! the body cut at `--max-body-bytes` (docs/serve.md). Where the chunks
//! begin and end changes nothing: the lines found, their numbers and the
//! record named at a cut are those of the whole body read at once.

/// The body passed its limit: what was read of it up to the limit has
/// been given out line by line, the rest is not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    /// The first record not wholly within the limit (its line end
    /// included), which the error line names.
    pub record: usize,
    /// The limit, in bytes.
    pub limit: u64,
}

impl Cut {
    /// The message of the error line that ends the answer.
    pub fn message(&self) -> String {
        format!(
            "the request body is longer than the limit of {} bytes; the rest is not read",
            self.limit
        )
    }
}

/// Splits a body into lines as its chunks arrive.
#[derive(Debug)]
pub struct BodyLines {
    /// The longest line, its line end not counted.
    max_line: usize,
    /// The longest body.
    max_body: u64,
    /// The line being read (its bytes dropped once it passes `max_line`).
    line: Vec<u8>,
    /// Whether the line being read passed `max_line`.
    skipping: bool,
    /// Lines given out so far.
    lines: usize,
    /// Bytes of the body read so far.
    read: u64,
}

impl BodyLines {
    /// A body whose lines are at most `max_line` bytes (the line end not
    /// counted) and which is at most `max_body` bytes long.
    pub fn new(max_line: usize, max_body: u64) -> BodyLines {
        BodyLines {
            max_line,
            max_body,
            line: Vec::new(),
            skipping: false,
            lines: 0,
            read: 0,
        }
    }

    /// Reads the next chunk: calls `each(n, line)` for every line it ends
    /// within the body's limit, in order (`line` with its line end, as
    /// `eval` reads it; `None` for a line over `max_line`).
    ///
    /// # Errors
    /// The chunk takes the body past its limit: the lines ended within the
    /// limit were given out, and nothing more is to be read.
    pub fn feed(
        &mut self,
        chunk: &[u8],
        mut each: impl FnMut(usize, Option<&[u8]>),
    ) -> Result<(), Cut> {
        let room = self.max_body.saturating_sub(self.read);
        let within = usize::try_from(room).map_or(chunk.len(), |room| room.min(chunk.len()));
        let (mut rest, over) = chunk.split_at(within);
        self.read = self.read.saturating_add(within as u64);
        while !rest.is_empty() {
            let (piece, next) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => rest.split_at(i + 1),
                None => (rest, &[][..]),
            };
            rest = next;
            let ended = piece.last() == Some(&b'\n');
            if !self.skipping {
                self.line.extend_from_slice(piece);
                // The line end does not count toward the limit.
                if self.line.len() - usize::from(ended) > self.max_line {
                    self.skipping = true;
                    self.line.clear();
                }
            }
            if ended {
                self.end_line(&mut each);
            }
        }
        if over.is_empty() {
            Ok(())
        } else {
            Err(Cut {
                record: self.lines + 1,
                limit: self.max_body,
            })
        }
    }

    /// The body ended: gives out its last line if it has no line end.
    pub fn finish(&mut self, mut each: impl FnMut(usize, Option<&[u8]>)) {
        if self.skipping || !self.line.is_empty() {
            self.end_line(&mut each);
        }
    }

    /// Gives out the line being read, and starts the next.
    fn end_line(&mut self, each: &mut impl FnMut(usize, Option<&[u8]>)) {
        self.lines += 1;
        each(self.lines, (!self.skipping).then_some(self.line.as_slice()));
        self.line.clear();
        self.skipping = false;
    }

    /// How many lines were given out.
    pub fn lines(&self) -> usize {
        self.lines
    }

    /// How many bytes of the body were read.
    pub fn bytes(&self) -> u64 {
        self.read
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a body read in `chunks` gives out: the lines, then the cut.
    fn read(chunks: &[&[u8]], max_line: usize, max_body: u64) -> (Vec<String>, Option<Cut>) {
        let mut lines = Vec::new();
        let mut body = BodyLines::new(max_line, max_body);
        let mut push = |n: usize, l: Option<&[u8]>| {
            let text = l.map_or("(long)".into(), |l| String::from_utf8_lossy(l).into_owned());
            lines.push(format!("{n}:{}", text.replace('\n', "/")));
        };
        for c in chunks {
            if let Err(cut) = body.feed(c, &mut push) {
                return (lines, Some(cut));
            }
        }
        body.finish(&mut push);
        (lines, None)
    }

    #[test]
    fn a_line_end_at_the_limit_is_within_it_and_one_past_it_is_not() {
        // "ab\n" is 3 bytes: within a limit of 3, not within 2.
        assert_eq!(
            read(&[b"ab\ncd\n"], 10, 6),
            (vec!["1:ab/".into(), "2:cd/".into()], None)
        );
        assert_eq!(
            read(&[b"ab\ncd\n"], 10, 5),
            (
                vec!["1:ab/".into()],
                Some(Cut {
                    record: 2,
                    limit: 5
                })
            )
        );
        assert_eq!(
            read(&[b"ab\n", b"c", b"d\n"], 10, 3),
            (
                vec!["1:ab/".into()],
                Some(Cut {
                    record: 2,
                    limit: 3
                })
            )
        );
        // The last line needs no line end; a blank line is a line.
        assert_eq!(
            read(&[b"\nab"], 10, 3),
            (vec!["1:/".into(), "2:ab".into()], None)
        );
    }

    #[test]
    fn a_line_over_its_limit_is_given_out_as_none_and_the_next_goes_on() {
        assert_eq!(
            read(&[b"abc", b"d\nef\n"], 3, 100),
            (vec!["1:(long)".into(), "2:ef/".into()], None)
        );
        // Its line end does not count toward the line's limit.
        assert_eq!(read(&[b"abc\n"], 3, 100), (vec!["1:abc/".into()], None));
    }

    /// What `read` should give, worked out from the whole body at once:
    /// the lines whose line end lies within the limit (and a last line
    /// without one when the body ends within it), then the cut.
    fn model(body: &[u8], max_line: usize, max_body: u64) -> (Vec<String>, Option<Cut>) {
        let limit = usize::try_from(max_body).unwrap();
        let over = body.len() > limit;
        let within = &body[..body.len().min(limit)];
        let mut lines = Vec::new();
        for (i, line) in within.split_inclusive(|&b| b == b'\n').enumerate() {
            let ended = line.ends_with(b"\n");
            if over && !ended {
                break;
            }
            let long = line.len() - usize::from(ended) > max_line;
            let text = if long {
                "(long)".to_string()
            } else {
                String::from_utf8_lossy(line).replace('\n', "/")
            };
            lines.push(format!("{}:{text}", i + 1));
        }
        let cut = over.then(|| Cut {
            record: lines.len() + 1,
            limit: max_body,
        });
        (lines, cut)
    }

    /// Every body of up to 7 bytes of `a` and line ends, in every
    /// chunking, under every body limit up to its length and a few line
    /// limits: the model's lines and cut.
    #[test]
    fn every_chunking_of_every_small_body_gives_the_whole_body_s_lines() {
        let mut runs = 0u64;
        for len in 0..=7usize {
            for bits in 0..1u32 << len {
                let body: Vec<u8> = (0..len)
                    .map(|i| if bits >> i & 1 == 1 { b'\n' } else { b'a' })
                    .collect();
                // A cut after byte i + 1 when bit i is set.
                for cuts in 0..1u32 << len.saturating_sub(1) {
                    let mut chunks: Vec<&[u8]> = Vec::new();
                    let mut from = 0;
                    for i in 0..len {
                        if i + 1 == len || cuts >> i & 1 == 1 {
                            chunks.push(&body[from..=i]);
                            from = i + 1;
                        }
                    }
                    for max_body in 0..=len as u64 + 1 {
                        for max_line in 0..=3 {
                            assert_eq!(
                                read(&chunks, max_line, max_body),
                                model(&body, max_line, max_body),
                                "{chunks:?}, body limit {max_body}, line limit {max_line}"
                            );
                            runs += 1;
                        }
                    }
                }
            }
        }
        assert!(runs > 100_000, "{runs}");
    }
}
