//! The filter grammar: tokens, then recursive descent with `or` below `and` below `not`.
//! Error details give positions and attribute names, never the values compared.

use serde_json::Number;

use super::{AttrPath, Filter, Literal, Op, MAX_DEPTH, MAX_LENGTH};
use crate::scim::error::ScimError;

#[derive(Debug, PartialEq)]
enum Token<'a> {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Text(String),
    Word(&'a str),
}

pub fn parse(text: &str) -> Result<Filter, ScimError> {
    if text.len() > MAX_LENGTH {
        return Err(ScimError::invalid_filter(format!(
            "a filter is at most {MAX_LENGTH} bytes"
        )));
    }

    let tokens = tokens(text)?;
    let mut parser = Parser {
        tokens,
        next: 0,
        depth: 0,
    };
    let filter = parser.or()?;

    match parser.tokens.get(parser.next) {
        None => Ok(filter),
        Some(_) => Err(parser.error("an operator (and, or) or the end")),
    }
}

/// `[urn:…:]name[.sub]`: names start with a letter (or `$`, as in `$ref`) and hold letters,
/// digits, `_`, `-` and `$`.
pub fn parse_attr_path(word: &str) -> Result<AttrPath, String> {
    let (urn, rest) = match word.get(..4) {
        Some(head) if head.eq_ignore_ascii_case("urn:") => {
            let colon = word.rfind(':').unwrap_or(0);
            (Some(word[..colon].to_owned()), &word[colon + 1..])
        }
        _ => (None, word),
    };
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };

    let valid = |name: &str| {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$'))
    };
    if !valid(name) || !sub.is_none_or(valid) {
        return Err("an attribute path is [urn:…:]name[.subAttribute]".into());
    }
    Ok(AttrPath {
        urn,
        name: name.to_owned(),
        sub: sub.map(str::to_owned),
    })
}

fn tokens(text: &str) -> Result<Vec<Token<'_>>, ScimError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();

    while let Some((at, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            '[' => tokens.push(Token::OpenBracket),
            ']' => tokens.push(Token::CloseBracket),
            '"' => {
                let mut escaped = false;
                let end = loop {
                    match chars.next() {
                        None => {
                            return Err(ScimError::invalid_filter(format!(
                                "the string starting at character {} is not closed",
                                at + 1
                            )))
                        }
                        Some((_, '\\')) if !escaped => escaped = true,
                        Some((end, '"')) if !escaped => break end,
                        Some(_) => escaped = false,
                    }
                };
                let decoded = serde_json::from_str(&text[at..=end]).map_err(|_| {
                    ScimError::invalid_filter(format!(
                        "the string starting at character {} is not a valid JSON string",
                        at + 1
                    ))
                })?;
                tokens.push(Token::Text(decoded));
            }
            _ => {
                let mut end = at + c.len_utf8();
                while let Some(&(next, c)) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"') {
                        break;
                    }
                    end = next + c.len_utf8();
                    chars.next();
                }
                tokens.push(Token::Word(&text[at..end]));
            }
        }
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    next: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, expected: &str) -> ScimError {
        let found = match self.tokens.get(self.next) {
            None => "the end of the filter".to_owned(),
            Some(token) => format!("token {}{}", self.next + 1, describe(token)),
        };
        ScimError::invalid_filter(format!("expected {expected}, found {found}"))
    }

    fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.next)
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn expect(&mut self, token: Token<'static>, name: &str) -> Result<(), ScimError> {
        if self.peek() == Some(&token) {
            self.next += 1;
            return Ok(());
        }
        Err(self.error(name))
    }

    fn or(&mut self) -> Result<Filter, ScimError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.next += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, ScimError> {
        let mut left = self.atom()?;
        while self.keyword("and") {
            self.next += 1;
            left = Filter::And(Box::new(left), Box::new(self.atom()?));
        }
        Ok(left)
    }

    /// `not (…)`, `(…)`, `attr[…]`, `attr pr` or `attr op value`.
    fn atom(&mut self) -> Result<Filter, ScimError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ScimError::invalid_filter(format!(
                "a filter nests at most {MAX_DEPTH} levels"
            )));
        }

        let filter = match self.peek() {
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("not") => {
                self.next += 1;
                Filter::Not(Box::new(self.atom()?))
            }
            Some(Token::Open) => {
                self.next += 1;
                let inner = self.or()?;
                self.expect(Token::Close, "')'")?;
                inner
            }
            Some(Token::Word(word)) => {
                let path = parse_attr_path(word).map_err(|why| {
                    ScimError::invalid_filter(format!("token {}: {why}", self.next + 1))
                })?;
                self.next += 1;
                self.after_path(path)?
            }
            _ => return Err(self.error("an attribute path, 'not' or '('")),
        };

        self.depth -= 1;
        Ok(filter)
    }

    fn after_path(&mut self, path: AttrPath) -> Result<Filter, ScimError> {
        if self.peek() == Some(&Token::OpenBracket) {
            self.next += 1;
            let inner = self.or()?;
            self.expect(Token::CloseBracket, "']'")?;
            return Ok(Filter::ValuePath {
                path,
                filter: Box::new(inner),
            });
        }

        let op = match self.peek() {
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("pr") => {
                self.next += 1;
                return Ok(Filter::Present(path));
            }
            Some(Token::Word(word)) => Op::parse(word),
            _ => None,
        };
        let Some(op) = op else {
            return Err(self.error(&format!(
                "an operator (eq ne co sw ew gt ge lt le pr) after {}",
                path.text()
            )));
        };
        self.next += 1;

        let value = self.value()?;
        Ok(Filter::Compare { path, op, value })
    }

    fn value(&mut self) -> Result<Literal, ScimError> {
        let literal = match self.peek() {
            Some(Token::Text(text)) => Some(Literal::String(text.clone())),
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("true") => {
                Some(Literal::Bool(true))
            }
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("false") => {
                Some(Literal::Bool(false))
            }
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("null") => Some(Literal::Null),
            Some(Token::Word(word)) => serde_json::from_str::<Number>(word)
                .ok()
                .map(Literal::Number),
            _ => None,
        };
        match literal {
            Some(literal) => {
                self.next += 1;
                Ok(literal)
            }
            None => Err(self.error("a value (a string in quotes, a number, true, false or null)")),
        }
    }
}

fn describe(token: &Token<'_>) -> &'static str {
    match token {
        Token::Open => " '('",
        Token::Close => " ')'",
        Token::OpenBracket => " '['",
        Token::CloseBracket => " ']'",
        Token::Text(_) => " (a string)",
        Token::Word(_) => " (a word)",
    }
}
