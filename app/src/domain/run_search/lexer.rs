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

/// The tokens of filter `s`, or why it cannot be read.
pub(super) fn tokenize(s: &str) -> Result<Vec<Tok>, Invalid> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let (tok, next) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => (Tok::LParen, i + 1),
            ')' => (Tok::RParen, i + 1),
            ',' => (Tok::Comma, i + 1),
            '.' if !chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) => (Tok::Dot, i + 1),
            '\'' | '"' | '`' => quoted(&chars, i)?,
            '=' | '!' | '<' | '>' => comparator(&chars, i)?,
            c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => number(&chars, i)?,
            c if c.is_alphanumeric() || c == '_' => {
                let mut end = i;
                while end < chars.len()
                    && (chars[end].is_alphanumeric() || matches!(chars[end], '_' | '-' | ':' | '/'))
                {
                    end += 1;
                }
                (Tok::Ident(chars[i..end].iter().collect()), end)
            }
            other => return Err(format!("unexpected character `{other}`").into()),
        };
        out.push(tok);
        i = next;
    }
    Ok(out)
}

/// The string opened by the quote at `start` (`\` escapes the quote), and where it ends.
fn quoted(chars: &[char], start: usize) -> Result<(Tok, usize), Invalid> {
    let quote = chars[start];
    let mut v = String::new();
    let mut i = start + 1;
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
    let tok = if quote == '`' {
        Tok::Backticked(v)
    } else {
        Tok::Quoted(v)
    };
    Ok((tok, i))
}

/// The comparator at `i`: `=`, `==` (read as `=`), `!=`, `<`, `<=`, `>`, `>=`.
fn comparator(chars: &[char], i: usize) -> Result<(Tok, usize), Invalid> {
    let c = chars[i];
    let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
    if matches!(two.as_str(), "!=" | "<=" | ">=" | "==") {
        Ok((Tok::Op(if two == "==" { "=".into() } else { two }), i + 2))
    } else if c == '!' {
        Err("`!` must be followed by `=`".into())
    } else {
        Ok((Tok::Op(c.to_string()), i + 1))
    }
}

/// The number starting at `start` (a sign, digits, a point, an exponent).
fn number(chars: &[char], start: usize) -> Result<(Tok, usize), Invalid> {
    let mut i = start + 1;
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
    Ok((Tok::Number(n), i))
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
