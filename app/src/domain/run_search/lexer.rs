//! The filter's tokens: identifiers, quoted and backticked keys, numbers, comparators and
//! punctuation.

use crate::domain::Invalid;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Quoted(String),
    Backticked(String),
    Number(f64),
    Op(String),
    LParen,
    RParen,
    Comma,
    Dot,
}

#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
pub(super) fn tokenize(s: &str) -> Result<Vec<Tok>, Invalid> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '.' if !chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) => {
                out.push(Tok::Dot);
                i += 1;
            }
            '\'' | '"' | '`' => {
                let quote = c;
                let mut v = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(format!("unterminated {quote}-quoted string").into()),
                        Some('\\') if chars.get(i + 1) == Some(&quote) => {
                            v.push(quote);
                            i += 2;
                        }
                        Some(&ch) if ch == quote => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            v.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push(if quote == '`' {
                    Tok::Backticked(v)
                } else {
                    Tok::Quoted(v)
                });
            }
            '=' | '!' | '<' | '>' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                if matches!(two.as_str(), "!=" | "<=" | ">=" | "==") {
                    out.push(Tok::Op(if two == "==" { "=".into() } else { two }));
                    i += 2;
                } else if c == '!' {
                    return Err("`!` must be followed by `=`".into());
                } else {
                    out.push(Tok::Op(c.to_string()));
                    i += 1;
                }
            }
            c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
                let start = i;
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '.' | '-' | '+'))
                {
                    // Stop a trailing sign that starts the next token (none in valid input).
                    if matches!(chars[i], '-' | '+') && !matches!(chars[i - 1], 'e' | 'E') {
                        break;
                    }
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let n = text
                    .parse::<f64>()
                    .map_err(|_| format!("`{text}` is not a number"))?;
                out.push(Tok::Number(n));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '-' | ':' | '/'))
                {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected character `{other}`").into()),
        }
    }
    Ok(out)
}

pub(super) fn describe(t: Option<&Tok>) -> String {
    match t {
        None => "the end of the filter".into(),
        Some(Tok::Ident(w)) => format!("`{w}`"),
        Some(Tok::Quoted(w)) => format!("'{w}'"),
        Some(Tok::Backticked(w)) => format!("`{w}`"),
        Some(Tok::Number(n)) => format!("{n}"),
        Some(Tok::Op(o)) => format!("`{o}`"),
        Some(Tok::LParen) => "`(`".into(),
        Some(Tok::RParen) => "`)`".into(),
        Some(Tok::Comma) => "`,`".into(),
        Some(Tok::Dot) => "`.`".into(),
    }
}
