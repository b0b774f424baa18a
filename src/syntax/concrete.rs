//! The concrete syntax tree: every token of a policy in order, grouped by
//! the grammar's rules, for tools that must reproduce the text (the
//! formatter). Checking and compiling use the lowered [`crate::ast`].

use super::grammar::{Rule, TollgateParser};
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use pest::iterators::Pair;
use pest::Parser;

/// The grammar rule a node stands for: the names of
/// `grammar/tollgate.pest`.
pub type NodeKind = Rule;

/// A node of the concrete tree. A leaf (a keyword, a name, a punctuation
/// mark, a literal) has no children; its text is `source[span]`.
#[derive(Debug, Clone)]
pub struct Node {
    /// The grammar rule.
    pub kind: NodeKind,
    /// Where it was written: exact for a leaf; a rule's span may run on
    /// over whitespace and comments after its last token.
    pub span: Span,
    /// The nodes inside, in order.
    pub children: Vec<Node>,
}

impl Node {
    /// Whether the node is a token.
    pub fn is_leaf(&self) -> bool {
        self.children.is_empty()
    }

    /// The first byte of its first token.
    pub fn start(&self) -> usize {
        self.children.first().map_or(self.span.start, Node::start)
    }

    /// Its tokens, in order.
    pub fn leaves(&self) -> Vec<&Node> {
        let mut out = Vec::new();
        self.collect_leaves(&mut out);
        out
    }

    fn collect_leaves<'a>(&'a self, out: &mut Vec<&'a Node>) {
        if self.is_leaf() {
            out.push(self);
        }
        for c in &self.children {
            c.collect_leaves(out);
        }
    }
}

/// Rules written as one token although the grammar spells out their parts.
fn is_token(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::rate
            | Rule::duration
            | Rule::time_of_day
            | Rule::money
            | Rule::number
            | Rule::decimal
            | Rule::digits
            | Rule::integer
            | Rule::string
            | Rule::ident
            | Rule::lint_name
            | Rule::cmp_op
            | Rule::instant
            | Rule::relative_time
    ) || {
        let name = format!("{rule:?}");
        name.starts_with("kw_") || name.starts_with("punct_")
    }
}

fn node(pair: Pair<'_, Rule>) -> Node {
    let span = Span::new(pair.as_span().start(), pair.as_span().end());
    let kind = pair.as_rule();
    let children = if is_token(kind) {
        Vec::new()
    } else {
        pair.into_inner()
            .filter(|p| p.as_rule() != Rule::EOI)
            .map(node)
            .collect()
    };
    Node {
        kind,
        span,
        children,
    }
}

/// The concrete tree of a policy that parses: the `file` node.
///
/// # Errors
/// The diagnostics of [`super::parse`] for a policy that does not.
pub fn concrete(source: &str) -> Result<Node, Vec<Diagnostic>> {
    super::parse(source)?;
    let mut pairs = TollgateParser::parse(Rule::file, source)
        .map_err(|e| vec![super::expected::syntax_error(&e, source)])?;
    match pairs.next() {
        Some(file) => Ok(node(file)),
        None => Err(vec![Diagnostic::error(
            crate::diagnostic::Code::E0001,
            "internal error: the parser produced no policy",
            Span::new(0, 0),
            "here",
        )]),
    }
}

/// The concrete tree of a test file that parses: the `test_file` node.
///
/// # Errors
/// The diagnostics of [`super::parse_tests`] for a test file that does not.
pub fn concrete_tests(source: &str) -> Result<Node, Vec<Diagnostic>> {
    super::parse_tests(source)?;
    let mut pairs = TollgateParser::parse(Rule::test_file, source)
        .map_err(|e| vec![super::expected::syntax_error(&e, source)])?;
    match pairs.next() {
        Some(file) => Ok(node(file)),
        None => Err(vec![super::test_file::shape_error()]),
    }
}
