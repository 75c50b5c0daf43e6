//! Suggestions read from a text PDF: total, date and merchant. Best effort and
//! deliberately small: only uncompressed content streams are read (no
//! decompression, no fonts, no OCR), and anything unclear is left out. The
//! result is shown beside what the person typed, never copied over it.

mod content;
mod figures;

use agencyops_store::records::ReceiptSuggestions;
use rust_decimal::Decimal;

pub use content::{text_lines, MAX_LINE_BYTES, MAX_TEXT_BYTES};
pub use figures::{amounts, find_date};

const MAX_MERCHANT_CHARS: usize = 120;

/// Reads suggestions from a PDF's bytes; empty when nothing was found.
pub fn suggestions(pdf: &[u8]) -> ReceiptSuggestions {
    let lines = text_lines(pdf);
    ReceiptSuggestions {
        total: total(&lines),
        date: lines.iter().find_map(|l| figures::find_date(l)),
        merchant: lines.iter().find_map(|l| merchant(l)),
    }
}

/// The first line with a letter in it, e.g. "Café Lisboa Lda".
fn merchant(line: &str) -> Option<String> {
    if !line.chars().any(char::is_alphabetic) {
        return None;
    }
    Some(line.chars().take(MAX_MERCHANT_CHARS).collect::<String>())
}

/// The amount of the "Total" line: lines naming a total (not a subtotal or a
/// tax total) give their last amount, or the next line's first when the
/// figure sits below; the largest wins, as the grand total is.
fn total(lines: &[String]) -> Option<Decimal> {
    let mut best: Option<Decimal> = None;
    for (i, line) in lines.iter().enumerate() {
        let lower = line.to_lowercase();
        let Some(at) = lower.find("total") else {
            continue;
        };
        let before = &lower[..at];
        if before.ends_with("sub") || before.ends_with("sub ") || before.ends_with("sub-") {
            continue;
        }
        // "Total VAT" and "Total excl. tax" are not what was paid;
        // "Total incl. VAT" is.
        let names_tax = ["vat", "tax", "iva", "tva", "mwst"]
            .iter()
            .any(|w| lower.contains(w));
        if lower.contains("excl")
            || lower.contains(" net")
            || (names_tax && !lower.contains("incl"))
        {
            continue;
        }
        let found = figures::amounts(&lower[at..]).last().copied().or_else(|| {
            lines
                .get(i + 1)
                .and_then(|l| figures::amounts(l).first().copied())
        });
        if let Some(a) = found {
            best = Some(best.map_or(a, |b| b.max(a)));
        }
    }
    best
}
