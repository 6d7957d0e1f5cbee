//! The upload parser against chunking, gzip, quoting, bad rows and the size ceilings.

use super::*;

const CSV: &str = include_str!("../../../../fixtures/fairness/plain.csv");

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
