//! Fairness uploads: prediction files streamed through a push CSV parser (gzip inflated on
//! the way) into per-group counts, then the report; and the stored reports.
//!
//! Nothing keeps the file: each chunk of the request body is hashed, inflated if needed,
//! split into records and tallied, so memory depends on the number of groups, not rows.

use crate::domain::fairness::{
    report, Columns, InputError, Mapping, Policy, Report, Rule, Settings, Tally,
};
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
    Input(InputError),
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

impl From<InputError> for UploadError {
    fn from(e: InputError) -> Self {
        UploadError::Input(e)
    }
}

/// An input error as the HTTP answer: 400 naming the column and line.
pub fn input_error(e: InputError) -> crate::error::AppError {
    let field = match e.row {
        Some(r) => format!("{} (line {r})", e.field),
        None => e.field,
    };
    crate::error::AppError::validation(field, e.message)
}

impl From<UploadError> for crate::error::AppError {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::Input(e) => input_error(e),
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
    error: Option<InputError>,
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

    fn record_done(&mut self) -> Result<(), InputError> {
        self.line += 1;
        let mut fields: Vec<&str> = Vec::with_capacity(self.ends_len);
        let mut start = 0;
        for &end in &self.ends[..self.ends_len] {
            let f = std::str::from_utf8(&self.record[start..end]).map_err(|_| InputError {
                field: "row".into(),
                row: Some(self.line),
                message: format!("line {}: not UTF-8 text", self.line),
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
    fn exceeded(&mut self, message: String, limit: u64) -> InputError {
        let e = InputError {
            field: "file".into(),
            row: None,
            message: message.clone(),
        };
        self.too_large = Some(UploadError::TooLarge { message, limit });
        self.error = Some(e.clone());
        e
    }

    /// Feeds bytes; the first error stops the parse and is kept.
    pub fn push(&mut self, mut input: &[u8]) -> Result<(), InputError> {
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
    pub fn finish(mut self) -> Result<Tally, InputError> {
        self.push(&[])?;
        if self.columns.is_none() {
            return Err(InputError {
                field: "file".into(),
                row: None,
                message: "the file is empty: no header row".into(),
            });
        }
        if self.tally.overall.rows == 0 {
            return Err(InputError {
                field: "file".into(),
                row: None,
                message: "the file has a header but no data rows".into(),
            });
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

/// The analysis settings a request asks for (query parameters), checked.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct Query {
    /// Label column.
    #[serde(default)]
    pub label: String,
    /// Prediction column.
    #[serde(default)]
    pub prediction: Option<String>,
    /// Score column.
    #[serde(default)]
    pub score: Option<String>,
    /// Threshold for the score.
    #[serde(default)]
    pub threshold: Option<String>,
    /// Attributes, comma-separated.
    #[serde(default)]
    pub attributes: String,
    /// Reference groups, `attr:group,attr:group`.
    #[serde(default)]
    pub reference: Option<String>,
    /// 1 (default) when prediction 1 is favourable, 0 when it is adverse.
    #[serde(default)]
    pub favorable: Option<String>,
    /// Cross the first two attributes.
    #[serde(default)]
    pub intersectional: Option<String>,
    /// Sample-weight column.
    #[serde(default)]
    pub weight: Option<String>,
    /// Smallest group without a warning.
    #[serde(default)]
    pub min_group_rows: Option<String>,
    /// Policy rules, `metric:min:max,…` (default the four-fifths rule on the favourable rate).
    #[serde(default)]
    pub rules: Option<String>,
    /// Model version the report is about (stored reports).
    #[serde(default)]
    pub model_version: Option<String>,
    /// Or the tracking run.
    #[serde(default)]
    pub run_id: Option<String>,
    /// Evaluation dataset name (stored reports).
    #[serde(default)]
    pub dataset: Option<String>,
}

fn bad(field: &str, message: String) -> InputError {
    InputError {
        field: field.into(),
        row: None,
        message,
    }
}

fn blank(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

impl Query {
    /// The column mapping and report settings.
    #[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
    pub fn settings(&self) -> Result<(Mapping, Settings), InputError> {
        let threshold = match blank(&self.threshold) {
            None => None,
            Some(t) => Some(
                t.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| bad("threshold", format!("threshold '{t}' is not a number")))?,
            ),
        };
        let attributes: Vec<String> = self
            .attributes
            .split(',')
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect();
        let mapping = Mapping {
            label: self.label.trim().to_owned(),
            prediction: blank(&self.prediction),
            score: blank(&self.score),
            threshold,
            attributes: attributes.clone(),
            weight: blank(&self.weight),
            intersectional: matches!(
                blank(&self.intersectional).as_deref(),
                Some("true" | "1" | "on")
            ),
        };
        let mut reference = BTreeMap::new();
        if let Some(r) = blank(&self.reference) {
            for pair in r.split(',').filter(|p| !p.trim().is_empty()) {
                let (a, g) = pair
                    .split_once(':')
                    .ok_or_else(|| bad("reference", format!("'{pair}' is not attribute:group")))?;
                if !attributes.iter().any(|x| x == a.trim()) {
                    return Err(bad(
                        "reference",
                        format!("'{}' is not one of the attributes", a.trim()),
                    ));
                }
                reference.insert(a.trim().to_owned(), g.trim().to_owned());
            }
        }
        let favorable_is_one = match blank(&self.favorable).as_deref() {
            None | Some("1") => true,
            Some("0") => false,
            Some(other) => {
                return Err(bad(
                    "favorable",
                    format!("favorable must be 1 or 0, not '{other}'"),
                ))
            }
        };
        let mut policy = Policy::default();
        if let Some(m) = blank(&self.min_group_rows) {
            policy.min_group_rows = m
                .parse()
                .map_err(|_| bad("min_group_rows", format!("'{m}' is not a whole number")))?;
        }
        if let Some(rules) = blank(&self.rules) {
            policy.rules = rules
                .split(',')
                .filter(|r| !r.trim().is_empty())
                .map(|r| {
                    let parts: Vec<&str> = r.split(':').map(str::trim).collect();
                    match parts.as_slice() {
                        [m, lo, hi] if crate::domain::fairness::METRICS.contains(m) => {
                            let lo: f64 = lo
                                .parse()
                                .map_err(|_| bad("rules", format!("'{lo}' is not a number")))?;
                            let hi: f64 = hi
                                .parse()
                                .map_err(|_| bad("rules", format!("'{hi}' is not a number")))?;
                            Ok(Rule {
                                metric: (*m).to_owned(),
                                min_ratio: lo,
                                max_ratio: hi,
                            })
                        }
                        _ => Err(bad(
                            "rules",
                            format!("'{r}' is not metric:min_ratio:max_ratio with a known metric"),
                        )),
                    }
                })
                .collect::<Result<_, _>>()?;
        }
        Ok((
            mapping,
            Settings {
                favorable_is_one,
                reference,
                policy,
                resamples: 1000,
                seed: 20261127,
            },
        ))
    }
}

/// The report of a finished upload, or why there is none (a reference group without rows).
pub fn report_of(tally: &Tally, settings: &Settings) -> Result<Report, InputError> {
    report(tally, settings).map_err(|m| bad("reference", m))
}

/// A stored report's header as the pages show it.
pub fn summary_of(r: crate::store::fairness::ReportRow) -> crate::dto::FairnessSummary {
    crate::dto::FairnessSummary {
        id: r.report_id,
        model_version: r.model_version,
        run_id: r.run_id,
        dataset: r.dataset,
        rows: r.rows,
        verdict: r.verdict,
        sentence: r.sentence,
        created_by: r.created_by,
        created_at: r.created_at,
        file_sha256: r.file_sha256,
    }
}

/// Everything a report's page shows.
pub async fn view(
    pool: &sqlx::SqlitePool,
    id: i64,
) -> Result<crate::dto::FairnessView, crate::error::AppError> {
    use crate::store::fairness as db;
    let (row, mapping, report) = db::get(pool, id)
        .await?
        .ok_or_else(|| crate::error::AppError::not_found(format!("no fairness report {id}")))?;
    let rule = report.policy.rules.first().cloned();
    let metric = rule
        .as_ref()
        .map(|r| r.metric.clone())
        .unwrap_or_else(|| "favorable_rate".into());
    let band = rule.as_ref().map(|r| (r.min_ratio, r.max_ratio));
    let charts = report
        .by_attribute
        .iter()
        .map(|(a, r)| (a.clone(), r))
        .chain(
            report
                .intersectional
                .iter()
                .map(|r| ("intersectional".to_owned(), r)),
        )
        .filter_map(|(a, r)| {
            let bars: Vec<(String, f64, bool, bool)> = r
                .groups
                .iter()
                .map(|(g, gr)| {
                    (
                        g.clone(),
                        gr.metrics.get(&metric).unwrap_or(0.0),
                        *g == r.reference_group,
                        gr.pass,
                    )
                })
                .collect();
            crate::service::charts::group_bars(&bars, band, &metric.replace('_', " "), 720)
                .map(|svg| (a, svg))
        })
        .collect();
    let previous = match &row.model_version {
        Some(m) => match db::previous_of_model(pool, m, id).await? {
            Some(p) => db::get(pool, p).await?.map(|(r, _, _)| summary_of(r)),
            None => None,
        },
        None => None,
    };
    Ok(crate::dto::FairnessView {
        summary: summary_of(row),
        mapping,
        report,
        charts,
        previous,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = include_str!("../../fixtures/fairness/plain.csv");

    fn mapping() -> Mapping {
        Mapping {
            label: "label".into(),
            prediction: Some("pred".into()),
            attributes: vec!["sex".into(), "region".into()],
            ..Default::default()
        }
    }

    fn whole() -> Tally {
        let mut u = Upload::new(mapping(), None);
        u.push(CSV.as_bytes()).unwrap();
        u.finish().unwrap().0
    }

    #[test]
    fn chunks_split_anywhere_and_gzip_give_the_same_tally() {
        let want = whole();
        assert_eq!(want.overall.rows, 2000);
        for size in [1usize, 7, 100, 4096] {
            let mut u = Upload::new(mapping(), None);
            for chunk in CSV.as_bytes().chunks(size) {
                u.push(chunk).unwrap();
            }
            let (t, digest, bytes) = u.finish().unwrap();
            assert_eq!(t.groups, want.groups, "chunks of {size}");
            assert_eq!(bytes as usize, CSV.len());
            assert_eq!(digest, hex::encode(Sha256::digest(CSV.as_bytes())));
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(CSV.as_bytes()).unwrap();
        let packed = gz.finish().unwrap();
        let mut u = Upload::new(mapping(), None);
        for chunk in packed.chunks(333) {
            u.push(chunk).unwrap();
        }
        assert_eq!(
            u.finish().unwrap().0.groups,
            want.groups,
            "gzip sniffed by its magic bytes"
        );
    }

    #[test]
    fn quoted_fields_blank_lines_and_a_missing_final_newline() {
        let mut u = Upload::new(mapping(), None);
        u.push(b"label,pred,sex,region\r\n1,1,\"female\",\"north, upper\"\r\n\r\n0,0,male,south")
            .unwrap();
        let t = u.finish().unwrap().0;
        assert_eq!(t.overall.rows, 2);
        assert!(t.groups["region"].contains_key("north, upper"));
    }

    #[test]
    fn errors_name_the_line_and_nothing_is_half_read() {
        let mut u = Upload::new(mapping(), None);
        let e = u
            .push(b"label,pred,sex,region\n1,1,f,n\n1,x,f,n\n")
            .unwrap_err();
        let UploadError::Input(e) = e else {
            panic!("{e:?}")
        };
        assert_eq!((e.field.as_str(), e.row), ("pred", Some(3)));
        assert!(Upload::new(mapping(), None)
            .finish()
            .unwrap_err()
            .message()
            .contains("empty"));
        let mut u = Upload::new(mapping(), None);
        u.push(b"label,pred,sex,region\n").unwrap();
        assert!(u.finish().unwrap_err().message().contains("no data rows"));
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn a_row_without_end_stops_at_the_row_limit_with_a_short_message() {
        // 16 MiB of one header cell, sent as ~16 KiB of gzip: the buffer stops at the limit.
        let bomb = gzip(&vec![b'a'; 16 << 20]);
        assert!(bomb.len() < 64 * 1024);
        let limits = Limits {
            max_inflated_bytes: 1 << 30,
            max_row_bytes: 64 * 1024,
        };
        let mut u = Upload::with_limits(mapping(), None, limits);
        let mut err = None;
        for chunk in bomb.chunks(8192) {
            if let Err(e) = u.push(chunk) {
                err = Some(e);
                break;
            }
        }
        let e = err.expect("the row limit stops the upload");
        assert_eq!(
            e,
            UploadError::TooLarge {
                message: "line 1 is longer than the limit of 65536 bytes per row (is the file CSV, with line breaks?)".into(),
                limit: 65536,
            }
        );
        // Later chunks are refused the same way, without more work.
        assert_eq!(u.push(b"more").unwrap_err(), e);
    }

    #[test]
    fn the_inflated_size_is_capped() {
        let mut csv = b"label,pred,sex,region\n".to_vec();
        for _ in 0..20_000 {
            csv.extend_from_slice(b"1,1,female,north\n");
        }
        let limits = Limits {
            max_inflated_bytes: 100_000,
            max_row_bytes: 1024,
        };
        // Whole or in chunks, and when the limit is passed only while finishing.
        let packed = gzip(&csv);
        let mut u = Upload::with_limits(mapping(), None, limits);
        let r = u.push(&packed).and_then(|_| u.finish().map(|_| ()));
        let e = r.unwrap_err();
        assert!(
            matches!(&e, UploadError::TooLarge { limit: 100_000, .. }),
            "{e:?}"
        );
        assert!(e.message().contains("100000 bytes once decompressed"));
        // Under the limit, the same data is read.
        let mut u = Upload::with_limits(mapping(), None, Limits::default());
        u.push(&packed).unwrap();
        assert_eq!(u.finish().unwrap().0.overall.rows, 20_000);
    }

    #[test]
    fn query_settings() {
        let q = Query {
            label: "label".into(),
            score: Some("score".into()),
            threshold: Some("0.5".into()),
            attributes: "sex, region".into(),
            reference: Some("sex:male".into()),
            favorable: Some("0".into()),
            rules: Some("favorable_rate:0.8:1.25,true_positive_rate:0.9:1.1".into()),
            ..Default::default()
        };
        let (m, s) = q.settings().unwrap();
        assert_eq!(m.attributes, vec!["sex", "region"]);
        assert!(!s.favorable_is_one);
        assert_eq!(s.policy.rules.len(), 2);
        assert_eq!(s.reference["sex"], "male");
        let mut bad = q.clone();
        bad.reference = Some("age:young".into());
        assert_eq!(bad.settings().unwrap_err().field, "reference");
        let mut bad = q.clone();
        bad.rules = Some("vibes:0:1".into());
        assert_eq!(bad.settings().unwrap_err().field, "rules");
    }
}
