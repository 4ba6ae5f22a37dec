//! Splits WIQL text into tokens. Keywords are plain words (the parser reads
//! them without case); `[...]` names a field; strings use single or double
//! quotes, a doubled quote standing for itself ([ms-code] microsoft/wiql-editor,
//! `compiler/tokenPatterns.ts`: `'(?:[^']|'')*'`, `"(?:[^"]|"")*"`).

use super::error::WiqlError;

/// A token.
#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// A bare word: keyword, `WorkItems`, or an unbracketed field name.
    Word(String),
    /// `[Field Name]`.
    Field(String),
    Text(String),
    Number(f64),
    /// `@name`, lowercased.
    Macro(String),
    /// `=`, `<>`, `!=`, `<`, `>`, `<=`, `>=`.
    Compare(String),
    LParen,
    RParen,
    Comma,
    Plus,
    Minus,
    Star,
}

impl Token {
    /// How the token reads in an error message.
    pub fn text(&self) -> String {
        match self {
            Token::Word(w) => w.clone(),
            Token::Field(f) => format!("[{f}]"),
            Token::Text(t) => format!("'{t}'"),
            Token::Number(n) => n.to_string(),
            Token::Macro(m) => format!("@{m}"),
            Token::Compare(c) => c.clone(),
            Token::LParen => "(".into(),
            Token::RParen => ")".into(),
            Token::Comma => ",".into(),
            Token::Plus => "+".into(),
            Token::Minus => "-".into(),
            Token::Star => "*".into(),
        }
    }
}

/// Tokenizes a query.
pub fn tokenize(input: &str) -> Result<Vec<Token>, WiqlError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | ')' | ',' | '+' | '-' | '*' => {
                tokens.push(match c {
                    '(' => Token::LParen,
                    ')' => Token::RParen,
                    ',' => Token::Comma,
                    '+' => Token::Plus,
                    '-' => Token::Minus,
                    _ => Token::Star,
                });
                i += 1;
            }
            '[' => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == ']')
                    .ok_or_else(|| WiqlError::syntax("]", "end of query"))?;
                let name: String = chars[i + 1..i + end].iter().collect();
                if name.trim().is_empty() {
                    return Err(WiqlError::syntax("a field name", "[]"));
                }
                tokens.push(Token::Field(name.trim().to_string()));
                i += end + 1;
            }
            '\'' | '"' => {
                let mut text = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err(WiqlError::syntax(&format!("{c}"), "end of query")),
                        Some(&q) if q == c && chars.get(j + 1) == Some(&c) => {
                            text.push(c);
                            j += 2;
                        }
                        Some(&q) if q == c => break,
                        Some(&other) => {
                            text.push(other);
                            j += 1;
                        }
                    }
                }
                tokens.push(Token::Text(text));
                i = j + 1;
            }
            '<' | '>' | '=' | '!' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = if ["<>", "<=", ">=", "!="].contains(&two.as_str()) {
                    two
                } else {
                    c.to_string()
                };
                if op == "!" {
                    return Err(WiqlError::syntax("an operator", "!"));
                }
                i += op.len();
                tokens.push(Token::Compare(op));
            }
            '@' => {
                let len = chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_alphanumeric() || **c == '_')
                    .count();
                if len == 0 {
                    return Err(WiqlError::syntax("a macro name", "@"));
                }
                tokens.push(Token::Macro(
                    chars[i + 1..i + 1 + len]
                        .iter()
                        .collect::<String>()
                        .to_ascii_lowercase(),
                ));
                i += 1 + len;
            }
            c if c.is_ascii_digit() => {
                let len = chars[i..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit() || **c == '.')
                    .count();
                let text: String = chars[i..i + len].iter().collect();
                tokens.push(Token::Number(
                    text.parse()
                        .map_err(|_| WiqlError::syntax("a number", &text))?,
                ));
                i += len;
            }
            c if c.is_alphabetic() || c == '_' => {
                let len = chars[i..]
                    .iter()
                    .take_while(|c| c.is_alphanumeric() || **c == '_' || **c == '.')
                    .count();
                tokens.push(Token::Word(chars[i..i + len].iter().collect()));
                i += len;
            }
            other => return Err(WiqlError::syntax("a token", &other.to_string())),
        }
    }
    Ok(tokens)
}
