//! Property tests of everything the processor reads from an upload or an
//! event: the type sniffer, the PDF suggestion reader and the event key
//! decoder. Whatever the bytes, they return (no panic, which would fail the
//! whole batch and dead-letter it) within a time bound, and what they return
//! keeps the rules the processor relies on. Case counts stay modest (256) so
//! the suite stays fast.

use std::time::{Duration, Instant};

use agencyops_receipts::decode_event_key;
use agencyops_receipts::file_type::{check_file, sniff, ReceiptType, Sniffed};
use agencyops_receipts::pdf::{suggestions, text_lines, MAX_LINE_BYTES, MAX_TEXT_BYTES};
use proptest::collection::vec;
use proptest::prelude::*;

/// Far above what any of these inputs needs (milliseconds), far below what a
/// quadratic or endless loop over them would take.
const BOUND: Duration = Duration::from_secs(5);

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

/// Bytes that often start like one of the formats the sniffer knows.
fn file_start() -> impl Strategy<Value = Vec<u8>> {
    let magic = prop_oneof![
        Just(b"%PDF-".to_vec()),
        Just(vec![0xFF, 0xD8, 0xFF]),
        Just(vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]),
        Just(b"RIFF\0\0\0\0WEBP".to_vec()),
        Just(b"\0\0\0\x18ftypheic".to_vec()),
        Just(b"\xEF\xBB\xBF  <html".to_vec()),
        Just(b"\x7FELF".to_vec()),
        Just(Vec::new()),
    ];
    (magic, vec(any::<u8>(), 0..1024)).prop_map(|(mut m, tail)| {
        m.extend(tail);
        m
    })
}

/// PDF-ish content: the reader's tokens, strings, arrays and numbers in any
/// order and nesting, with arbitrary bytes between them, in a stream.
fn pdf_like() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(b"(".to_vec()),
        Just(b")".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"\\0".to_vec()),
        Just(b"[".to_vec()),
        Just(b"]".to_vec()),
        Just(b"<".to_vec()),
        Just(b">".to_vec()),
        Just(b"<<".to_vec()),
        Just(b" Tj ".to_vec()),
        Just(b" TJ ".to_vec()),
        Just(b" Td ".to_vec()),
        Just(b" TD ".to_vec()),
        Just(b" Tm ".to_vec()),
        Just(b" T* ".to_vec()),
        Just(b" ' ".to_vec()),
        Just(b" BT ".to_vec()),
        Just(b" ET ".to_vec()),
        Just(b"%".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"stream\n".to_vec()),
        Just(b"endstream".to_vec()),
        Just(b" /Filter ".to_vec()),
        Just(b" obj ".to_vec()),
        Just(b"(Total 42.50)".to_vec()),
        Just(b"(18/11/2026)".to_vec()),
        any::<i64>().prop_map(|n| format!(" {n} ").into_bytes()),
        any::<f64>().prop_map(|n| format!(" {n} ").into_bytes()),
        vec(any::<u8>(), 0..16),
    ];
    vec(token, 0..400).prop_map(|parts| {
        let mut pdf = b"%PDF-1.4\n1 0 obj\n<< /Length 0 >>\nstream\n".to_vec();
        for p in parts {
            pdf.extend(p);
        }
        pdf.extend_from_slice(b"\nendstream\nendobj\n%%EOF");
        pdf
    })
}

/// The two ways event keys arrive: S3's form encoding (`+` for space, `/`
/// kept) and the emulators' (`/` encoded as well).
fn form_encode(key: &str, encode_slash: bool) -> String {
    let mut out = String::new();
    for &b in key.as_bytes() {
        match b {
            b' ' => out.push('+'),
            b'/' if !encode_slash => out.push('/'),
            b if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) => out.push(char::from(b)),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_are_sniffed_and_checked_consistently(bytes in file_start()) {
        let started = Instant::now();
        let sniffed = sniff(&bytes);
        for declared in ReceiptType::ALL {
            let checked = check_file(declared, &bytes);
            // A file is accepted as exactly what its bytes show, and only so.
            let expected = !bytes.is_empty() && sniffed == Sniffed::Receipt(declared);
            prop_assert_eq!(checked.is_ok(), expected, "{:?} as {:?}: {:?}", sniffed, declared, checked);
            if let Ok(kind) = checked {
                prop_assert_eq!(kind, declared);
            }
        }
        prop_assert!(started.elapsed() < BOUND);
    }

    #[test]
    fn arbitrary_bytes_never_upset_the_pdf_reader(bytes in vec(any::<u8>(), 0..4096)) {
        let started = Instant::now();
        let mut pdf = b"%PDF-1.4\n".to_vec();
        pdf.extend(bytes);
        let _ = suggestions(&pdf);
        prop_assert!(started.elapsed() < BOUND);
    }

    #[test]
    fn pdf_like_content_reads_within_its_caps(pdf in pdf_like()) {
        let started = Instant::now();
        let lines = text_lines(&pdf);
        let s = suggestions(&pdf);
        prop_assert!(started.elapsed() < BOUND);
        prop_assert!(lines.iter().all(|l| l.len() <= MAX_LINE_BYTES && !l.is_empty()));
        prop_assert!(lines.iter().map(String::len).sum::<usize>() <= MAX_TEXT_BYTES);
        // A suggested merchant is the start of a line that was read.
        if let Some(m) = s.merchant {
            prop_assert!(lines.iter().any(|l| l.starts_with(&m)), "{} not in {:?}", m, lines);
        }
    }

    #[test]
    fn any_event_key_text_decodes_without_panicking(raw in "\\PC{0,200}|[%+/0-9A-Fa-fg-z]{0,200}") {
        let started = Instant::now();
        let decoded = decode_event_key(&raw);
        prop_assert!(started.elapsed() < BOUND);
        // Nothing is invented: a key without `%` or `+` decodes to itself.
        if !raw.contains(['%', '+']) {
            prop_assert_eq!(decoded.as_deref(), Some(raw.as_str()));
        }
    }

    #[test]
    fn both_encodings_of_any_key_decode_to_that_key(key in "\\PC{0,120}") {
        for encode_slash in [false, true] {
            let decoded = decode_event_key(&form_encode(&key, encode_slash));
            prop_assert_eq!(decoded.as_deref(), Some(key.as_str()));
        }
    }
}
