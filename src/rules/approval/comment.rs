//! Decisions written as task comments: `/approve [note]` or `/deny [reason]`.
//!
//! Only a command at the very start of a comment counts (after leading whitespace, in any
//! case), followed by whitespace or the end; the rest of its first line is the note or reason.
//! Anything else (`/denied`, `please /approve`) is no decision.

/// A decision taken in a comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommentDecision {
    Approve { note: Option<String> },
    Deny { reason: Option<String> },
}

/// The decision at the start of `text`, if it has one.
pub fn parse_decision_comment(text: &str) -> Option<CommentDecision> {
    let line = text.trim_start().lines().next()?;

    if let Some(note) = after_command(line, "/approve") {
        return Some(CommentDecision::Approve { note });
    }
    after_command(line, "/deny").map(|reason| CommentDecision::Deny { reason })
}

/// When `line` starts with `command` (any case) and then whitespace or its end: the rest,
/// trimmed, `None` inside when empty.
fn after_command(line: &str, command: &str) -> Option<Option<String>> {
    let head = line.get(..command.len())?;
    if !head.eq_ignore_ascii_case(command) {
        return None;
    }

    let rest = &line[command.len()..];
    if rest
        .chars()
        .next()
        .is_some_and(|next| !next.is_whitespace())
    {
        return None;
    }
    let rest = rest.trim();
    Some((!rest.is_empty()).then(|| rest.to_owned()))
}
