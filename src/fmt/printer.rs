//! Lays out words into lines: a block indent, greedy wrapping at allowed
//! break points with a continuation indent, blank lines on request, and the
//! source's comments put back where they were written.

/// The widest line the formatter aims for (a word longer than the room
/// left still stands on its own line).
pub const WIDTH: usize = 100;

/// Spaces per block level.
pub const INDENT: usize = 2;

/// Extra spaces for the continuation of a wrapped line.
pub const CONTINUATION: usize = 4;

/// A comment of the source, with where it stood.
#[derive(Debug, Clone)]
pub struct Comment {
    /// Its first byte in the source.
    pub start: usize,
    /// Its text, from `#`, without trailing whitespace.
    pub text: String,
    /// Whether it had a line of its own (nothing but whitespace before it
    /// on its line); otherwise it followed code.
    pub own_line: bool,
}

/// One word of a logical line.
#[derive(Debug)]
struct Piece {
    text: String,
    /// A space separates it from the word before.
    space: bool,
    /// The line may be broken before it.
    brk: bool,
}

/// Builds the formatted text.
pub struct Printer {
    out: String,
    comments: Vec<Comment>,
    next: usize,
    indent: usize,
    line: Vec<Piece>,
    /// The logical line was already broken (by a comment): what follows
    /// starts at the continuation indent.
    continuing: bool,
    blank: bool,
}

impl Printer {
    /// A printer that will put back `comments` (ascending by `start`).
    pub fn new(comments: Vec<Comment>) -> Printer {
        Printer {
            out: String::new(),
            comments,
            next: 0,
            indent: 0,
            line: Vec::new(),
            continuing: false,
            blank: false,
        }
    }

    /// Enters a block: later lines are indented one more level.
    pub fn open(&mut self) {
        self.indent += INDENT;
    }

    /// The current block indent, in spaces.
    pub fn indent(&self) -> usize {
        self.indent
    }

    /// Leaves a block.
    pub fn close(&mut self) {
        self.indent = self.indent.saturating_sub(INDENT);
    }

    /// Asks for a blank line before the next line written (none at the very
    /// start of the file).
    pub fn blank(&mut self) {
        self.blank = true;
    }

    /// Whether an own-line comment stands before byte `at`, not yet written.
    pub fn comment_before(&self, at: usize) -> bool {
        self.comments
            .get(self.next..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| c.start < at)
            .any(|c| c.own_line)
    }

    /// Whether any comment, written or not, starts within `start..end`.
    pub fn comment_within(&self, start: usize, end: usize) -> bool {
        self.comments
            .iter()
            .any(|c| c.start >= start && c.start < end)
    }

    /// Adds the word `text` written at byte `at` of the source, after the
    /// comments written before it.
    pub fn word(&mut self, at: usize, text: &str, space: bool, brk: bool) {
        self.comments_before(at);
        self.line.push(Piece {
            text: text.to_string(),
            space,
            brk,
        });
    }

    /// Writes the comments that stand before byte `at`.
    pub fn comments_before(&mut self, at: usize) {
        while let Some(c) = self.comments.get(self.next).filter(|c| c.start < at) {
            let c = c.clone();
            self.next += 1;
            if c.own_line {
                let mid_line = !self.line.is_empty() || self.continuing;
                self.flush();
                let indent = if mid_line {
                    self.indent + CONTINUATION
                } else {
                    self.indent
                };
                self.physical(indent, &c.text);
                self.continuing = mid_line;
            } else {
                self.line.push(Piece {
                    text: c.text,
                    space: true,
                    brk: false,
                });
                self.flush();
                self.continuing = true;
            }
        }
    }

    /// Ends the logical line, with the comments that followed its code on
    /// the same source line (those before byte `upto`).
    pub fn end_line(&mut self, upto: usize) {
        while let Some(c) = self
            .comments
            .get(self.next)
            .filter(|c| c.start < upto && !c.own_line)
        {
            let text = c.text.clone();
            self.next += 1;
            self.line.push(Piece {
                text,
                space: true,
                brk: false,
            });
        }
        self.flush();
        self.continuing = false;
    }

    /// Writes one line at `indent`.
    fn physical(&mut self, indent: usize, text: &str) {
        if self.blank && !self.out.is_empty() {
            self.out.push('\n');
        }
        self.blank = false;
        self.out.extend(std::iter::repeat_n(' ', indent));
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// Lays out the logical line: words joined, broken before a break point
    /// whose stretch up to the next break point would pass [`WIDTH`].
    fn flush(&mut self) {
        if self.line.is_empty() {
            return;
        }
        let pieces = std::mem::take(&mut self.line);
        let first = if self.continuing {
            self.indent + CONTINUATION
        } else {
            self.indent
        };
        let mut text = String::new();
        let mut indent = first;
        for (i, p) in pieces.iter().enumerate() {
            let width = indent + text.chars().count();
            if p.brk && !text.is_empty() {
                let stretch: usize = pieces
                    .get(i..)
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                    .take_while(|(j, q)| *j == 0 || !q.brk)
                    .map(|(_, q)| q.text.chars().count() + usize::from(q.space))
                    .sum();
                if width + stretch > WIDTH {
                    let line = std::mem::take(&mut text);
                    self.physical(indent, &line);
                    indent = self.indent + CONTINUATION;
                }
            }
            if p.space && !text.is_empty() {
                text.push(' ');
            }
            text.push_str(&p.text);
        }
        self.physical(indent, &text);
    }

    /// The text, with the comments left at the end of the source.
    pub fn finish(mut self) -> String {
        self.flush();
        let rest: Vec<Comment> = self.comments.get(self.next..).unwrap_or_default().to_vec();
        if !rest.is_empty() && !self.out.is_empty() {
            self.blank = true;
        }
        for c in rest {
            self.physical(0, &c.text);
        }
        self.out
    }
}
