//! Amounts and dates as people write them on receipts.

use jiff::civil::Date;
use rust_decimal::Decimal;

/// Amounts written on a line: "1,234.56", "1.234,56", "42.50", "€ 12".
pub fn amounts(line: &str) -> Vec<Decimal> {
    let mut out = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        // Not the tail of a word, a reference, a date or a time.
        let boundary = i == 0
            || !(chars[i - 1].is_alphanumeric()
                || matches!(chars[i - 1], '-' | ':' | '/' | '.' | ','));
        if chars[i].is_ascii_digit() && boundary {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || matches!(chars[i], '.' | ',')) {
                i += 1;
            }
            let raw: String = chars[start..i].iter().collect();
            let followed_by_letter = chars.get(i).is_some_and(|c| c.is_alphabetic());
            let is_date_like = chars.get(i).is_some_and(|c| matches!(c, '/' | '-' | ':'));
            if !followed_by_letter && !is_date_like {
                if let Some(a) = parse_amount(raw.trim_end_matches(['.', ','])) {
                    out.push(a);
                }
            }
        } else {
            i += 1;
        }
    }
    out
}

/// One written number as a Decimal. The last separator decides: followed by
/// one or two digits it is the decimal point ("42.50", "7,5"), by three a
/// thousands separator ("1,234"); any other separator is for thousands.
fn parse_amount(raw: &str) -> Option<Decimal> {
    if raw.is_empty() {
        return None;
    }
    let last_sep = raw.rfind(['.', ',']);
    let normalized = match last_sep {
        None => raw.to_owned(),
        Some(at) => {
            let decimals = &raw[at + 1..];
            let whole: String = raw[..at].chars().filter(char::is_ascii_digit).collect();
            match decimals.len() {
                1 | 2 => format!("{whole}.{decimals}"),
                // "1,234" or "1.234": a thousands separator.
                3 => format!("{whole}{decimals}"),
                _ => return None,
            }
        }
    };
    normalized.parse::<Decimal>().ok()
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// "Nov", "nov.", "Sept" and "November" name a month; "Marina" does not.
fn month_named(word: &str) -> Option<i8> {
    let w = word.trim_end_matches('.').to_lowercase();
    if w.len() < 3 {
        return None;
    }
    let pos = MONTHS.iter().position(|m| m.starts_with(w.as_str()))?;
    i8::try_from(pos + 1).ok()
}

fn date(year: i64, month: i64, day: i64) -> Option<Date> {
    if !(1990..=2100).contains(&year) {
        return None;
    }
    Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()
}

/// The first date on a line: 2026-11-18, 18/11/2026, 18.11.2026 (day first,
/// month first only when the day-first reading is impossible), 18 Nov 2026,
/// Nov 18, 2026.
pub fn find_date(line: &str) -> Option<Date> {
    let words: Vec<&str> = line
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    for (i, word) in words.iter().enumerate() {
        if let Some(d) = numeric_date(word) {
            return Some(d);
        }
        let num = |w: Option<&&str>| -> Option<i64> {
            w?.trim_end_matches(['.', 's', 't', 'n', 'd', 'r', 'h'])
                .parse()
                .ok()
        };
        if let Some(m) = month_named(word) {
            // "Nov 18, 2026"
            if let (Some(d), Some(y)) = (num(words.get(i + 1)), num(words.get(i + 2))) {
                if let Some(found) = date(y, i64::from(m), d) {
                    return Some(found);
                }
            }
            // "18 Nov 2026"
            if i > 0 {
                if let (Some(d), Some(y)) = (num(words.get(i - 1)), num(words.get(i + 1))) {
                    if let Some(found) = date(y, i64::from(m), d) {
                        return Some(found);
                    }
                }
            }
        }
    }
    None
}

fn numeric_date(word: &str) -> Option<Date> {
    let word = word.trim_matches(|c: char| !c.is_ascii_digit());
    let sep = word.chars().find(|c| matches!(c, '-' | '/' | '.'))?;
    let parts: Vec<&str> = word.split(sep).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let n = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.len() <= 4 && s.chars().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (a_n, b_n, c_n) = (n(a)?, n(b)?, n(c)?);
    if a.len() == 4 {
        return date(a_n, b_n, c_n);
    }
    if c.len() == 4 {
        return date(c_n, b_n, a_n).or_else(|| date(c_n, a_n, b_n));
    }
    None
}
