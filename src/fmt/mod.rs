//! `tollgate fmt`: the canonical layout of a policy.
//!
//! The layout depends only on the policy's tokens and on where its comments
//! stand (on a line of their own, or after code), never on the source's
//! spaces, indentation or line breaks: formatting twice changes nothing,
//! and a copy with scrambled whitespace formats to the same bytes. The
//! rules are in `docs/format.md`.

mod printer;
pub mod udiff;

use crate::diagnostic::Diagnostic;
use crate::lint::tokens::{tokens, Token};
use crate::syntax::concrete::{concrete, concrete_tests, Node, NodeKind as K};
use printer::{Comment, Printer, WIDTH};

/// The canonical text of `source`.
///
/// # Errors
/// The parser's diagnostics when `source` is not a policy (only a policy
/// that parses can be formatted).
pub fn format(source: &str) -> Result<String, Vec<Diagnostic>> {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let tree = concrete(source)?;
    let mut f = Formatter {
        src: source,
        p: Printer::new(comments(source)),
        last: None,
    };
    f.file(&tree);
    Ok(f.p.finish())
}

/// The canonical text of a test file (`NAME.test.toll`): the header, a
/// blank line before each test, one line per record, expectation or
/// message one level in (wrapped when long).
///
/// # Errors
/// The parser's diagnostics when `source` is not a test file.
pub fn format_tests(source: &str) -> Result<String, Vec<Diagnostic>> {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let tree = concrete_tests(source)?;
    let mut f = Formatter {
        src: source,
        p: Printer::new(comments(source)),
        last: None,
    };
    f.test_file(&tree);
    Ok(f.p.finish())
}

/// The comments of `source`, and whether each had a line of its own.
fn comments(source: &str) -> Vec<Comment> {
    let mut out = Vec::new();
    let mut own_line = true;
    for (tok, span) in tokens(source) {
        match tok {
            Some(Token::Space) => {}
            Some(Token::Newline) => own_line = true,
            Some(Token::Comment) => {
                let text = source.get(span.range()).unwrap_or("#");
                out.push(Comment {
                    start: span.start,
                    text: text.trim_end().to_string(),
                    own_line,
                });
                own_line = false;
            }
            _ => own_line = false,
        }
    }
    out
}

/// The groups of top-level declarations; a blank line separates two
/// neighbours of different groups.
fn section(kind: K) -> u8 {
    match kind {
        K::field_decl => 1,
        K::const_decl => 2,
        K::condition_decl => 3,
        K::expect_decl => 4,
        K::schedule_decl => 5,
        K::rule_decl => 6,
        _ => 0,
    }
}

struct Formatter<'a> {
    src: &'a str,
    p: Printer,
    /// The kind of the last token written, and of its parent.
    last: Option<(K, K)>,
}

impl Formatter<'_> {
    fn text(&self, leaf: &Node) -> String {
        let t = self.src.get(leaf.span.range()).unwrap_or("");
        if leaf.kind == K::money {
            // `20.00   CNY`: one space between the amount and the code.
            t.split_whitespace().collect::<Vec<_>>().join(" ")
        } else {
            t.to_string()
        }
    }

    fn file(&mut self, file: &Node) {
        let entries = &file.children;
        if let Some(first) = entries.first() {
            if self.p.comment_before(first.start()) {
                // The file's opening comment, set apart from the policy.
                self.p.comments_before(first.start());
                self.p.blank();
            }
        }
        for (i, entry) in entries.iter().enumerate() {
            if let Some(prev) = i.checked_sub(1).and_then(|j| entries.get(j)) {
                let apart = section(prev.kind) != section(entry.kind)
                    || entry.kind == K::schedule_decl
                    || prev.kind == K::schedule_decl
                    || self.p.comment_before(entry.start());
                if apart {
                    self.p.blank();
                }
            }
            let next = entries.get(i + 1).map_or(self.src.len(), Node::start);
            match entry.kind {
                K::schedule_decl => self.schedule(entry, next),
                _ => {
                    self.inline(entry);
                    self.p.end_line(next);
                }
            }
        }
    }

    /// A test file: the header line, then each test set apart.
    fn test_file(&mut self, file: &Node) {
        let entries = &file.children;
        if let Some(first) = entries.first() {
            if self.p.comment_before(first.start()) {
                self.p.comments_before(first.start());
                self.p.blank();
            }
        }
        for (i, entry) in entries.iter().enumerate() {
            if i > 0 {
                self.p.blank();
            }
            let next = entries.get(i + 1).map_or(self.src.len(), Node::start);
            if entry.kind == K::test_case {
                self.block(entry, next);
            } else {
                self.inline(entry);
                self.p.end_line(next);
            }
        }
    }

    /// A test: `test "NAME" {`, one record, expectation or message per
    /// line one level in, `}`.
    fn block(&mut self, node: &Node, next: usize) {
        self.braced(node, next, true);
    }

    /// A schedule: its header, one item per line one level in, `}`.
    fn schedule(&mut self, node: &Node, next: usize) {
        self.braced(node, next, false);
    }

    /// A braced node: its header up to `{`, one item per line one level
    /// in, `}`. The items are the nodes between the braces, or, with
    /// `nested`, their children (a test's body groups its lines).
    fn braced(&mut self, node: &Node, next: usize, nested: bool) {
        let kids = &node.children;
        let lbrace = kids.iter().position(|k| k.kind == K::punct_lbrace);
        let head = lbrace.map_or(0, |i| i + 1);
        for leaf in kids.iter().take(head) {
            self.leaf_in(leaf, node.kind);
        }
        let inside = kids.iter().skip(head).filter(|k| k.kind != K::punct_rbrace);
        let items: Vec<&Node> = if nested {
            inside.flat_map(|k| k.children.iter()).collect()
        } else {
            inside.collect()
        };
        let rbrace = kids.iter().rfind(|k| k.kind == K::punct_rbrace);
        let close_at = rbrace.map_or(self.src.len(), |r| r.span.start);
        self.p
            .end_line(items.first().map_or(close_at, |i| i.start()));
        self.p.open();
        for (i, item) in items.iter().enumerate() {
            if i > 0 && self.p.comment_before(item.start()) {
                self.p.blank();
            }
            self.inline(item);
            let upto = items.get(i + 1).map_or(close_at, |n| n.start());
            self.p.end_line(upto);
        }
        self.p.comments_before(close_at);
        self.p.close();
        if let Some(r) = rbrace {
            self.fixed(r.span.start, "}", K::punct_rbrace);
        }
        self.p.end_line(next);
    }

    /// A declaration or clause laid out as one logical line (wrapped when
    /// long), with `tiered` bands and long enums broken into blocks.
    fn inline(&mut self, node: &Node) {
        match node.kind {
            K::tiered => self.tiered(node),
            K::field_decl if self.vertical_enum(node) => {
                for kid in &node.children {
                    match kid.kind {
                        K::type_expr => match kid.children.first() {
                            Some(e) if e.kind == K::enum_type => self.enum_block(e),
                            _ => self.inline(kid),
                        },
                        _ if kid.is_leaf() => self.leaf_in(kid, node.kind),
                        _ => self.inline(kid),
                    }
                }
            }
            K::test_record if self.vertical(node) => {
                for kid in &node.children {
                    match kid.kind {
                        K::record_fields => self.record_block(kid),
                        _ => self.leaf_in(kid, node.kind),
                    }
                }
            }
            _ if node.is_leaf() => self.leaf_in(node, node.kind),
            _ => {
                let kids = &node.children;
                for (i, kid) in kids.iter().enumerate() {
                    if kid.is_leaf() {
                        let next = kids.get(i + 1);
                        if kid.kind == K::punct_comma
                            && closes_list(next)
                            && !self.comment_around(kids.get(i.wrapping_sub(1)), next)
                        {
                            // A trailing comma in a one-line list goes,
                            // unless a comment stands by it (it keeps its
                            // place before or after the comma).
                            continue;
                        }
                        self.leaf_in(kid, node.kind);
                    } else {
                        self.inline(kid);
                    }
                }
            }
        }
    }

    /// One token, spaced by its kind and its parent's.
    fn leaf_in(&mut self, leaf: &Node, parent: K) {
        let text = self.text(leaf);
        let (space, brk) = spacing(leaf.kind, parent, self.last);
        self.p.word(leaf.span.start, &text, space, brk);
        self.last = Some((leaf.kind, parent));
    }

    /// A token the formatter writes itself (a brace or a variant of a
    /// block), standing for the source's token at `at`.
    fn fixed(&mut self, at: usize, text: &str, kind: K) {
        self.p.word(at, text, false, false);
        self.last = Some((kind, K::file));
    }

    /// `tiered NAME {`, one band per line one level in, `}`; the fee goes
    /// on after the brace.
    fn tiered(&mut self, node: &Node) {
        let kids = &node.children;
        let rbrace = kids.iter().rfind(|k| k.kind == K::punct_rbrace);
        let close_at = rbrace.map_or(self.src.len(), |r| r.span.start);
        let bands: Vec<&Node> = kids.iter().filter(|k| k.kind == K::band).collect();
        for kid in kids.iter().take_while(|k| k.kind != K::band) {
            self.leaf_in(kid, node.kind);
        }
        self.p
            .end_line(bands.first().map_or(close_at, |b| b.start()));
        self.p.open();
        for (i, band) in bands.iter().enumerate() {
            self.inline(band);
            self.p
                .end_line(bands.get(i + 1).map_or(close_at, |b| b.start()));
        }
        self.p.comments_before(close_at);
        self.p.close();
        if let Some(r) = rbrace {
            self.fixed(r.span.start, "}", K::punct_rbrace);
        }
    }

    /// Whether a comment stands between the nodes `before` and `after`.
    fn comment_around(&self, before: Option<&Node>, after: Option<&Node>) -> bool {
        let end = |n: &Node| n.leaves().last().map_or(n.span.end, |l| l.span.end);
        let from = before.map_or(0, end);
        let to = after.map_or(self.src.len(), Node::start);
        self.p.comment_within(from, to)
    }

    /// Whether the enum of a field declaration is laid out one variant per
    /// line: when a comment stands among its variants, or the declaration
    /// would not fit on one line.
    fn vertical_enum(&self, field: &Node) -> bool {
        let Some(enum_type) = field
            .children
            .iter()
            .filter(|k| k.kind == K::type_expr)
            .find_map(|t| t.children.first().filter(|e| e.kind == K::enum_type))
        else {
            return false;
        };
        let end = enum_type
            .leaves()
            .last()
            .map_or(enum_type.span.end, |l| l.span.end);
        if self.p.comment_within(enum_type.start(), end) {
            return true;
        }
        let flat: usize = field
            .leaves()
            .iter()
            .map(|l| self.text(l).chars().count() + 1)
            .sum();
        self.p.indent() + flat > WIDTH
    }

    /// Whether `node` is laid out over several lines: when a comment stands
    /// inside it, or it would not fit on one line.
    fn vertical(&self, node: &Node) -> bool {
        let leaves = node.leaves();
        let end = leaves.last().map_or(node.span.end, |l| l.span.end);
        if self.p.comment_within(node.start(), end) {
            return true;
        }
        let flat: usize = leaves
            .iter()
            .map(|l| self.text(l).chars().count() + 1)
            .sum();
        self.p.indent() + flat > WIDTH
    }

    /// A test's record over several lines: `{`, one `field: value,` per
    /// line one level in, `}`.
    fn record_block(&mut self, node: &Node) {
        let kids = &node.children;
        let rbrace = kids.iter().rfind(|k| k.kind == K::punct_rbrace);
        let close_at = rbrace.map_or(self.src.len(), |r| r.span.start);
        let fields = items_of(kids, K::record_field);
        if let Some(l) = kids.first().filter(|k| k.kind == K::punct_lbrace) {
            self.leaf_in(l, K::record_fields);
        }
        self.p
            .end_line(fields.first().map_or(close_at, |(_, f)| f.start()));
        self.p.open();
        for (i, &(at, field)) in fields.iter().enumerate() {
            self.inline(field);
            let end = field.leaves().last().map_or(field.span.end, |l| l.span.end);
            self.separator(kids, at, end);
            self.p
                .end_line(fields.get(i + 1).map_or(close_at, |(_, n)| n.start()));
        }
        self.p.comments_before(close_at);
        self.p.close();
        if let Some(r) = rbrace {
            self.fixed(r.span.start, "}", K::punct_rbrace);
        }
    }

    /// The comma after the item `kids[item]` of a list laid out one item
    /// per line: the source's comma where it stands,
    /// so that a comment before it stays before it and one after it stays
    /// after it; a comma of the formatter's own right after the item
    /// (ending at `end`) when the source has none there.
    fn separator(&mut self, kids: &[Node], item: usize, end: usize) {
        match kids.get(item + 1).filter(|k| k.kind == K::punct_comma) {
            Some(c) => self.fixed(c.span.start, ",", K::punct_comma),
            None => self.fixed(end, ",", K::punct_comma),
        }
    }

    /// `enum {`, one `variant,` per line one level in, `}`.
    fn enum_block(&mut self, node: &Node) {
        let kids = &node.children;
        let rbrace = kids.iter().rfind(|k| k.kind == K::punct_rbrace);
        let close_at = rbrace.map_or(self.src.len(), |r| r.span.start);
        let variants = items_of(kids, K::ident);
        for kid in kids.iter().take_while(|k| k.kind != K::ident) {
            self.leaf_in(kid, K::enum_type);
        }
        self.p
            .end_line(variants.first().map_or(close_at, |(_, v)| v.start()));
        self.p.open();
        for (i, &(at, v)) in variants.iter().enumerate() {
            let text = self.text(v);
            self.fixed(v.span.start, &text, K::ident);
            self.separator(kids, at, v.span.end);
            self.p
                .end_line(variants.get(i + 1).map_or(close_at, |(_, n)| n.start()));
        }
        self.p.comments_before(close_at);
        self.p.close();
        if let Some(r) = rbrace {
            self.fixed(r.span.start, "}", K::punct_rbrace);
        }
    }
}

/// The items of kind `kind` among a list's nodes, with their indexes.
fn items_of(kids: &[Node], kind: K) -> Vec<(usize, &Node)> {
    kids.iter()
        .enumerate()
        .filter(|(_, k)| k.kind == kind)
        .collect()
}

/// Whether `next` closes a bracketed list (so a comma before it trails).
fn closes_list(next: Option<&Node>) -> bool {
    next.is_some_and(|n| matches!(n.kind, K::punct_rbrace | K::punct_rparen))
}

/// Whether a space goes before a token of kind `kind` in a node of kind
/// `parent`, after the token `last` (its kind and its parent's), and
/// whether the line may break before it.
fn spacing(kind: K, parent: K, last: Option<(K, K)>) -> (bool, bool) {
    let tight_after = matches!(
        last,
        Some(
            (
                K::punct_lparen | K::punct_dotdot | K::punct_dash | K::punct_dot,
                _
            ) | (K::punct_lbrace, K::set)
        )
    );
    let tight_before = match kind {
        K::punct_comma
        | K::punct_colon
        | K::punct_rparen
        | K::punct_dotdot
        | K::punct_dash
        | K::punct_dot => true,
        K::punct_rbrace => parent == K::set,
        _ => false,
    };
    let after_comma = matches!(last, Some((K::punct_comma, _)));
    let brk = after_comma
        || match kind {
            K::kw_and | K::kw_or => matches!(parent, K::expr | K::and_expr),
            K::punct_arrow => matches!(parent, K::rule_decl | K::test_message),
            K::kw_when | K::punct_plus => true,
            K::kw_min | K::kw_cap => !matches!(last, Some((K::kw_total, _))),
            K::kw_total => true,
            _ => false,
        };
    (!(tight_after || tight_before), brk && !tight_before)
}
