//! An upload in progress: the body's chunks hashed, inflated and parsed into a tally.

use super::query::bad;
use crate::domain::fairness::{Columns, Mapping, Tally};
use crate::domain::FieldError;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;

/// Ceilings on one upload, so that a small compressed body cannot take the server's memory or
/// time: the CSV text after decompression, and one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes of CSV text, after gzip is inflated.
    pub max_inflated_bytes: u64,
    /// Longest row (the header included), in bytes.
    pub max_row_bytes: usize,
}

impl Default for Limits {
    /// 1 GiB of CSV text (a file of ten million rows with a few columns) and 64 KiB per row
    /// (hundreds of columns); parsing is streamed, so memory does not grow with the first.
    fn default() -> Self {
        Limits {
            max_inflated_bytes: 1 << 30,
            max_row_bytes: 64 * 1024,
        }
    }
}

/// Why an upload was refused: bad content (400, naming the column and line) or a ceiling
/// reached (413, naming it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UploadError {
    /// The content is wrong.
    Input(FieldError),
    /// A limit was passed.
    TooLarge {
        /// What was too large, with the limit.
        message: String,
        /// The limit, in bytes.
        limit: u64,
    },
}

impl UploadError {
    /// The text shown to the user.
    pub fn message(&self) -> &str {
        match self {
            UploadError::Input(e) => &e.message,
            UploadError::TooLarge { message, .. } => message,
        }
    }
}

impl From<FieldError> for UploadError {
    fn from(e: FieldError) -> Self {
        UploadError::Input(e)
    }
}

impl From<UploadError> for crate::error::AppError {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::Input(e) => e.into(),
            UploadError::TooLarge { message, limit } => crate::error::AppError::PayloadTooLarge {
                message,
                limit_bytes: limit,
            },
        }
    }
}

/// Push parser state: CSV records from byte chunks into a tally.
pub struct CsvTally {
    limits: Limits,
    inflated: u64,
    too_large: Option<UploadError>,
    mapping: Mapping,
    reader: csv_core::Reader,
    record: Vec<u8>,
    ends: Vec<usize>,
    record_len: usize,
    ends_len: usize,
    columns: Option<(Columns, Vec<String>)>,
    tally: Tally,
    line: u64,
    error: Option<FieldError>,
}

impl CsvTally {
    /// A parser for files mapped by `mapping`.
    pub fn new(mapping: Mapping, limits: Limits) -> CsvTally {
        let intersectional = mapping.intersectional;
        CsvTally {
            limits,
            inflated: 0,
            too_large: None,
            mapping,
            reader: csv_core::ReaderBuilder::new().build(),
            record: vec![0; 4096],
            ends: vec![0; 64],
            record_len: 0,
            ends_len: 0,
            columns: None,
            tally: Tally {
                intersectional: intersectional.then(BTreeMap::new),
                ..Default::default()
            },
            line: 0,
            error: None,
        }
    }

    fn record_done(&mut self) -> Result<(), FieldError> {
        self.line += 1;
        let mut fields: Vec<&str> = Vec::with_capacity(self.ends_len);
        let mut start = 0;
        for &end in &self.ends[..self.ends_len] {
            let f = std::str::from_utf8(&self.record[start..end]).map_err(|_| {
                FieldError::on_row(
                    "row",
                    Some(self.line),
                    format!("line {}: not UTF-8 text", self.line),
                )
            })?;
            fields.push(f);
            start = end;
        }
        match &self.columns {
            None => {
                let header: Vec<&str> = fields
                    .iter()
                    .map(|f| f.trim_start_matches('\u{feff}'))
                    .collect();
                let cols = self.mapping.resolve(&header)?;
                let names = cols.attribute_names();
                self.columns = Some((cols, names));
            }
            Some((cols, names)) => {
                // A blank line is not a row.
                if !(fields.len() == 1 && fields[0].trim().is_empty()) {
                    cols.add_row(&mut self.tally, names, self.line, &fields)?;
                }
            }
        }
        Ok(())
    }

    /// Stops the parse at a ceiling: kept for [`Upload`] to answer 413.
    fn exceeded(&mut self, message: String, limit: u64) -> FieldError {
        let e = FieldError::on_row("file", None, message.clone());
        self.too_large = Some(UploadError::TooLarge { message, limit });
        self.error = Some(e.clone());
        e
    }

    /// Feeds bytes; the first error stops the parse and is kept.
    pub fn push(&mut self, mut input: &[u8]) -> Result<(), FieldError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        self.inflated += input.len() as u64;
        if self.inflated > self.limits.max_inflated_bytes {
            let limit = self.limits.max_inflated_bytes;
            return Err(self.exceeded(
                format!("the CSV is larger than the limit of {limit} bytes once decompressed"),
                limit,
            ));
        }
        loop {
            let (res, nin, nout, nend) = self.reader.read_record(
                input,
                &mut self.record[self.record_len..],
                &mut self.ends[self.ends_len..],
            );
            input = &input[nin..];
            // Field ends are offsets from the start of the record: csv_core keeps count across
            // calls that continue one record.
            self.record_len += nout;
            self.ends_len += nend;
            match res {
                csv_core::ReadRecordResult::InputEmpty => return Ok(()),
                csv_core::ReadRecordResult::OutputFull => {
                    let limit = self.limits.max_row_bytes;
                    if self.record.len() >= limit {
                        let line = self.line + 1;
                        return Err(self.exceeded(
                            format!("line {line} is longer than the limit of {limit} bytes per row (is the file CSV, with line breaks?)"),
                            limit as u64,
                        ));
                    }
                    let n = (self.record.len() * 2).min(limit);
                    self.record.resize(n, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    // Each column takes at least its separator: the row limit bounds them too.
                    let n = (self.ends.len() * 2).min(self.limits.max_row_bytes + 1);
                    self.ends.resize(n, 0);
                }
                csv_core::ReadRecordResult::Record | csv_core::ReadRecordResult::End => {
                    let end = matches!(res, csv_core::ReadRecordResult::End);
                    if !end || self.ends_len > 0 {
                        if let Err(e) = self.record_done() {
                            self.error = Some(e.clone());
                            return Err(e);
                        }
                    }
                    self.record_len = 0;
                    self.ends_len = 0;
                    if end {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// As [`CsvTally::finish`], a ceiling reached answered as such.
    fn finish_upload(mut self) -> Result<Tally, UploadError> {
        // The last record is read here and may pass the row limit.
        if let Err(e) = self.push(&[]) {
            return Err(self.too_large.take().unwrap_or(UploadError::Input(e)));
        }
        self.finish().map_err(UploadError::Input)
    }

    /// Ends the input (a last line without a newline counts) and returns the tally.
    pub fn finish(mut self) -> Result<Tally, FieldError> {
        self.push(&[])?;
        if self.columns.is_none() {
            return Err(FieldError::on_row(
                "file",
                None,
                "the file is empty: no header row",
            ));
        }
        if self.tally.overall.rows == 0 {
            return Err(FieldError::on_row(
                "file",
                None,
                "the file has a header but no data rows",
            ));
        }
        Ok(self.tally)
    }
}

impl Write for CsvTally {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.push(buf)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.message))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An upload in progress: hashes the bytes as sent, inflates gzip (detected by its magic
/// bytes or declared), and tallies.
pub struct Upload {
    hasher: Sha256,
    bytes: u64,
    sink: Option<Sink>,
    mapping: Mapping,
    gzip: Option<bool>,
    limits: Limits,
}

enum Sink {
    Plain(Box<CsvTally>),
    Gzip(Box<flate2::write::GzDecoder<CsvTally>>),
}

impl Upload {
    /// Starts with the default [`Limits`]; `gzip` is `Some(true)` when the request says so,
    /// else sniffed.
    pub fn new(mapping: Mapping, gzip: Option<bool>) -> Upload {
        Upload::with_limits(mapping, gzip, Limits::default())
    }

    /// Starts with the given ceilings.
    pub fn with_limits(mapping: Mapping, gzip: Option<bool>, limits: Limits) -> Upload {
        Upload {
            hasher: Sha256::new(),
            bytes: 0,
            sink: None,
            mapping,
            gzip,
            limits,
        }
    }

    fn tally(sink: &Sink) -> &CsvTally {
        match sink {
            Sink::Plain(t) => t,
            Sink::Gzip(g) => g.get_ref(),
        }
    }

    fn kept_error(sink: &Sink) -> Option<UploadError> {
        let t = Self::tally(sink);
        t.too_large
            .clone()
            .or_else(|| t.error.clone().map(UploadError::Input))
    }

    /// Feeds a chunk of the body.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), UploadError> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.hasher.update(chunk);
        self.bytes += chunk.len() as u64;
        let sink = self.sink.get_or_insert_with(|| {
            let gz = self.gzip.unwrap_or(chunk.starts_with(&[0x1f, 0x8b]));
            let t = CsvTally::new(self.mapping.clone(), self.limits);
            if gz {
                Sink::Gzip(Box::new(flate2::write::GzDecoder::new(t)))
            } else {
                Sink::Plain(Box::new(t))
            }
        });
        let failed = match sink {
            Sink::Plain(t) => t.push(chunk).err().map(|e| e.message),
            Sink::Gzip(g) => g.write_all(chunk).err().map(|e| e.to_string()),
        };
        match failed {
            None => Ok(()),
            Some(e) => Err(Self::kept_error(sink).unwrap_or_else(|| {
                UploadError::Input(bad("file", format!("the gzip data is corrupt: {e}")))
            })),
        }
    }

    /// Ends the body: the tally, the file's SHA-256 and its size as sent.
    pub fn finish(self) -> Result<(Tally, String, u64), UploadError> {
        let digest = hex::encode(self.hasher.finalize());
        let tally = match self.sink {
            None => return Err(UploadError::Input(bad("file", "the file is empty".into()))),
            Some(Sink::Plain(t)) => (*t).finish_upload()?,
            Some(Sink::Gzip(mut g)) => {
                let incomplete = |e: std::io::Error| {
                    UploadError::Input(bad("file", format!("the gzip data is incomplete: {e}")))
                };
                // Inflating what is left may still pass a limit or hit a bad row.
                if let Err(e) = g.try_finish() {
                    return Err(Self::kept_error(&Sink::Gzip(g)).unwrap_or_else(|| incomplete(e)));
                }
                g.finish().map_err(incomplete)?.finish_upload()?
            }
        };
        Ok((tally, digest, self.bytes))
    }
}

#[cfg(test)]
mod tests;
