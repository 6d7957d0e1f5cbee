//! CSV as RFC 4180 defines it, in one place: reading uploaded or stored text into records (the
//! `csv` crate's reader, so quoted commas, doubled quotes and line breaks inside quotes all
//! hold), and writing cells (quoted only when they must be, with the spreadsheet-formula
//! defusing OWASP recommends for files people open in Excel).

use std::borrow::Cow;

/// One record of a CSV text and the line it starts on (1-based, counting every line of the
/// text, so error messages point where an editor does).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The line the record starts on.
    pub line: usize,
    /// The record's fields, unquoted.
    pub fields: Vec<String>,
}

/// Every record of `text`, header included; blank and whitespace-only lines are skipped and a
/// byte-order mark at the start is dropped. Records may differ in length (callers check that
/// against their header and name the line). With `trim`, spaces around each field are removed.
pub fn records(text: &str, trim: bool) -> Vec<Record> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(if trim {
            ::csv::Trim::All
        } else {
            ::csv::Trim::None
        })
        .from_reader(text.as_bytes());
    reader
        .records()
        // Reading a `&str` fails only on I/O or invalid UTF-8, neither possible here.
        .filter_map(Result::ok)
        // A blank line is one empty field; a row of empty fields (`,,`) is data.
        .filter(|r| r.len() > 1 || r.get(0).is_some_and(|f| !f.trim().is_empty()))
        .map(|r| Record {
            line: r.position().map_or(0, |p| start_line(text, p)),
            fields: r.iter().map(str::to_owned).collect(),
        })
        .collect()
}

/// The line a record starts on. The reader reports the position where it started looking,
/// which is before any empty lines it then skipped; those are counted here.
fn start_line(text: &str, p: &::csv::Position) -> usize {
    let rest = text.as_bytes().get(p.byte() as usize..).unwrap_or_default();
    let mut skipped = 0;
    let mut i = 0;
    while let Some(&b) = rest.get(i) {
        match b {
            b'\n' => skipped += 1,
            b'\r' => {}
            _ => break,
        }
        i += 1;
    }
    p.line() as usize + skipped
}

/// One cell as written to a CSV file: quoted, with quotes doubled, when it holds a comma, a
/// quote or a line break; as it is otherwise.
pub fn cell(s: &str) -> Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(s)
    }
}

/// A cell for a file people open in a spreadsheet: a leading `=`, `+`, `-` or `@` is defused
/// with `'` so it is not run as a formula, then the cell is quoted as [`cell`] does.
pub fn spreadsheet_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@']) {
        cell(&format!("'{s}")).into_owned()
    } else {
        cell(s).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreadsheet_cells_quote_and_defuse() {
        assert_eq!(spreadsheet_cell("north"), "north");
        assert_eq!(spreadsheet_cell("north, upper"), "\"north, upper\"");
        assert_eq!(spreadsheet_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(spreadsheet_cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(
            records(&spreadsheet_cell("a, \"b\""), true)[0].fields,
            vec!["a, \"b\""]
        );
    }

    #[test]
    fn quoted_line_breaks_stay_in_their_field_and_lines_are_counted() {
        let r = records("a,b\n\n\"two\nlines\",x\r\n  \nlast,\"q\"\"q\"\n", false);
        assert_eq!(
            r,
            vec![
                Record {
                    line: 1,
                    fields: vec!["a".into(), "b".into()]
                },
                Record {
                    line: 3,
                    fields: vec!["two\nlines".into(), "x".into()]
                },
                Record {
                    line: 6,
                    fields: vec!["last".into(), "q\"q".into()]
                },
            ]
        );
    }

    #[test]
    fn trimming_bom_and_ragged_rows() {
        let r = records("\u{feff} a , b \n1\n", true);
        assert_eq!(r[0].fields, vec!["a", "b"]);
        assert_eq!(r[1].fields, vec!["1"]);
        assert!(records("", true).is_empty());
    }

    #[test]
    fn cells_round_trip_through_the_reader() {
        for s in ["plain", "a,b", "say \"hi\"", "two\nlines", "cr\r\nlf"] {
            let line = format!("{},end\n", cell(s));
            assert_eq!(records(&line, false)[0].fields, vec![s, "end"]);
        }
    }
}
