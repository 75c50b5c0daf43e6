//! Suggestions read from PDFs the tests write themselves: valid one-page PDFs
//! with an uncompressed text stream, laid out the ways receipt generators do.

mod support;

use agencyops_receipts::pdf::{
    amounts, find_date, suggestions, text_lines, MAX_LINE_BYTES, MAX_TEXT_BYTES,
};
use jiff::civil::date;
use rust_decimal::Decimal;
use support::{cafe_receipt, pdf_with_content, receipt_pdf};

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn a_cafe_receipt_suggests_its_total_date_and_merchant() {
    let s = suggestions(&cafe_receipt());
    assert_eq!(s.merchant.as_deref(), Some("Cafe Lisboa Lda"));
    assert_eq!(s.date, Some(date(2026, 11, 18)));
    // Not the subtotal, not the VAT: the total.
    assert_eq!(s.total, Some(dec("42.50")));
}

#[test]
fn labels_and_amounts_placed_side_by_side_read_as_one_line() {
    let lines = text_lines(&cafe_receipt());
    assert!(lines.contains(&"Total EUR 42.50".to_owned()), "{lines:?}");
    assert!(lines.contains(&"Subtotal 34.55".to_owned()), "{lines:?}");
    assert_eq!(lines[0], "Cafe Lisboa Lda");
}

#[test]
fn a_total_below_its_label_and_european_numbers_are_understood() {
    let pdf = receipt_pdf(&[
        &["Papelaria Central"],
        &["Fatura 2026/0042"],
        &["18 Nov 2026"],
        &["TOTAL A PAGAR"],
        &["1.234,56 EUR"],
    ]);
    let s = suggestions(&pdf);
    assert_eq!(s.merchant.as_deref(), Some("Papelaria Central"));
    assert_eq!(s.date, Some(date(2026, 11, 18)));
    assert_eq!(s.total, Some(dec("1234.56")));
}

#[test]
fn text_operators_with_arrays_escapes_and_line_moves_are_read() {
    // One text object: TJ with kerning, octal escapes, T* and ' for new lines.
    let content = b"BT /F1 12 Tf 14 TL 40 780 Td [(Hotel ) -30 (M\\351ridien)] TJ T* \
(Nov 17, 2026) Tj (Grand total: \\(incl. tax\\) 310.00) ' ET";
    let pdf = pdf_with_content(content, None);
    let lines = text_lines(&pdf);
    assert_eq!(
        lines,
        vec![
            "Hotel Méridien",
            "Nov 17, 2026",
            "Grand total: (incl. tax) 310.00"
        ]
    );
    let s = suggestions(&pdf);
    assert_eq!(s.merchant.as_deref(), Some("Hotel Méridien"));
    assert_eq!(s.date, Some(date(2026, 11, 17)));
    assert_eq!(s.total, Some(dec("310.00")));
}

#[test]
fn compressed_streams_and_non_text_pdfs_suggest_nothing() {
    let content = support::receipt_content(&[&["Shop"], &["Total", "9.99"]]);
    let compressed = pdf_with_content(content.as_bytes(), Some("FlateDecode"));
    assert!(suggestions(&compressed).is_empty());
    let drawing = pdf_with_content(b"0 0 m 100 100 l S", None);
    assert!(suggestions(&drawing).is_empty());
    assert!(suggestions(b"%PDF-1.4\n%%EOF").is_empty());
}

#[test]
fn garbage_never_panics() {
    let mut junk = b"%PDF-1.4\n1 0 obj << >> stream\n(unterminated [ <abc".to_vec();
    junk.extend((0..=255u8).collect::<Vec<_>>());
    let _ = suggestions(&junk);
    let _ = suggestions(b"stream\nendstream stream\r\n((((\\");
}

#[test]
fn text_moves_beyond_any_page_never_panic() {
    // The largest number a Decimal holds, moved by twice: the position overflows.
    let max = Decimal::MAX.to_string();
    let content = format!("BT 0 {max} Td (Shop) Tj 0 {max} Td (Total 9.99) Tj ET");
    let pdf = pdf_with_content(content.as_bytes(), None);
    let s = suggestions(&pdf);
    assert!(s.merchant.is_some_and(|m| m.starts_with("Shop")));
    let negative = format!("BT 0 -{max} Td (a) Tj 0 -{max} TD (b) Tj ET");
    let _ = suggestions(&pdf_with_content(negative.as_bytes(), None));
}

#[test]
fn amounts_and_dates_on_a_line() {
    assert_eq!(amounts("Total EUR 42.50"), vec![dec("42.50")]);
    assert_eq!(
        amounts("€1,234.56 and 7,5"),
        vec![dec("1234.56"), dec("7.5")]
    );
    assert_eq!(amounts("ref A12 2026-11-18 12:30"), Vec::<Decimal>::new());
    assert_eq!(find_date("Date: 2026-11-18"), Some(date(2026, 11, 18)));
    assert_eq!(find_date("18.11.2026 14:02"), Some(date(2026, 11, 18)));
    // Day first, unless that reading is impossible.
    assert_eq!(find_date("03/04/2026"), Some(date(2026, 4, 3)));
    assert_eq!(find_date("11/28/2026"), Some(date(2026, 11, 28)));
    assert_eq!(find_date("November 3rd 2026"), Some(date(2026, 11, 3)));
    assert_eq!(find_date("31/02/2026"), None);
    assert_eq!(find_date("no date here 42.50"), None);
}

/// A file made of nothing but stream markers: reading it stays linear, so a
/// hostile upload cannot keep the processor busy past its timeout (before,
/// each stream searched back through the whole file: more than ten minutes for
/// this 1 MB file, which the test runner's slow-test limit would end as a
/// failure; now it is read in milliseconds). No clock is asserted on here.
#[test]
fn a_file_of_stream_markers_is_read_without_stalling() {
    let mut pdf = b"%PDF-1.4\n".to_vec();
    while pdf.len() < 1024 * 1024 {
        pdf.extend_from_slice(b"stream\nendstream\n");
    }
    assert!(suggestions(&pdf).is_empty());
}

/// However much text a file shows, what is kept stays small: a line holds at
/// most [`MAX_LINE_BYTES`], the whole file [`MAX_TEXT_BYTES`], the start first.
#[test]
fn endless_arrays_strings_and_lines_are_cut_to_the_caps() {
    // One TJ array of 100 000 strings: one line, cut short.
    let mut content = b"BT [".to_vec();
    for _ in 0..100_000 {
        content.extend_from_slice(b"(ab) ");
    }
    content.extend_from_slice(b"] TJ ET");
    let lines = text_lines(&pdf_with_content(&content, None));
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with("abab") && lines[0].len() <= MAX_LINE_BYTES);

    // One string of 1 MB (of two-byte characters once read).
    let content = format!("BT (Shop {}) Tj ET", "\\351".repeat(1 << 18));
    let lines = text_lines(&pdf_with_content(content.as_bytes(), None));
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with("Shop é") && lines[0].len() <= MAX_LINE_BYTES);

    // 2000 lines of 900 bytes: 1.8 MB shown, the first 64 KB kept.
    let row = "y".repeat(900);
    let mut content = String::from("BT 14 TL ");
    for i in 0..2000 {
        content.push_str(&format!("({i} {row}) ' "));
    }
    content.push_str("ET");
    let pdf = pdf_with_content(content.as_bytes(), None);
    let lines = text_lines(&pdf);
    let kept: usize = lines.iter().map(String::len).sum();
    assert!(
        kept <= MAX_TEXT_BYTES && kept > MAX_TEXT_BYTES - 1000,
        "{kept}"
    );
    assert!(lines[0].starts_with("0 yyy") && lines[1].starts_with("1 yyy"));
    assert!(suggestions(&pdf)
        .merchant
        .is_some_and(|m| m.starts_with("0 yyy")));
}
