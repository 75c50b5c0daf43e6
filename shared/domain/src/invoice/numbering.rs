//! Invoice and credit-note numbers: a pattern such as `{YYYY}-{SEQ:4}` and a
//! counter per series. The year comes from the issue date (never the clock,
//! IN #9093), and a pattern with a year restarts its counter each year.

use jiff::civil::Date;

/// Longest number a pattern may produce: QuickBooks Online's doc-number limit.
pub const MAX_NUMBER_LEN: usize = 21;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Year4,
    Year2,
    Month,
    Seq(usize),
}

/// A parsed number pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumberPattern {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("the pattern needs exactly one {{SEQ}} or {{SEQ:n}} counter")]
    NoCounter,
    #[error("unknown placeholder {0:?}; use {{YYYY}}, {{YY}}, {{MM}} or {{SEQ:n}}")]
    Unknown(String),
    #[error("{{SEQ:n}} takes a width of 1 to 10")]
    Width,
    #[error("text in a number may use letters, digits and - / _ . # only")]
    Text,
    #[error("numbers from this pattern could be longer than {MAX_NUMBER_LEN} characters")]
    TooLong,
    #[error("{{MM}} needs {{YYYY}} or {{YY}} beside it, or numbers would repeat every year")]
    MonthWithoutYear,
}

impl NumberPattern {
    pub fn parse(pattern: &str) -> Result<NumberPattern, PatternError> {
        let mut parts = Vec::new();
        let mut rest = pattern;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('{') {
                let end = after
                    .find('}')
                    .ok_or_else(|| PatternError::Unknown(rest.to_owned()))?;
                let token = &after[..end];
                parts.push(match token {
                    "YYYY" => Part::Year4,
                    "YY" => Part::Year2,
                    "MM" => Part::Month,
                    "SEQ" => Part::Seq(1),
                    t => match t.strip_prefix("SEQ:") {
                        Some(w) => {
                            let w: usize = w.parse().map_err(|_| PatternError::Width)?;
                            if !(1..=10).contains(&w) {
                                return Err(PatternError::Width);
                            }
                            Part::Seq(w)
                        }
                        None => return Err(PatternError::Unknown(format!("{{{t}}}"))),
                    },
                });
                rest = &after[end + 1..];
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                let text = &rest[..end];
                if !text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-/_.#".contains(c))
                {
                    return Err(PatternError::Text);
                }
                parts.push(Part::Text(text.to_owned()));
                rest = &rest[end..];
            }
        }
        if parts.iter().filter(|p| matches!(p, Part::Seq(_))).count() != 1 {
            return Err(PatternError::NoCounter);
        }
        let p = NumberPattern { parts };
        if p.parts.contains(&Part::Month) && !p.has_year() {
            return Err(PatternError::MonthWithoutYear);
        }
        // The counter may grow past its width; allow numbers up to 10 digits wide
        // only while the whole still fits.
        if p.max_len() > MAX_NUMBER_LEN {
            return Err(PatternError::TooLong);
        }
        Ok(p)
    }

    fn has_year(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Year4 | Part::Year2))
    }

    fn max_len(&self) -> usize {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.len(),
                Part::Year4 => 4,
                Part::Year2 | Part::Month => 2,
                Part::Seq(w) => (*w).max(6),
            })
            .sum()
    }

    /// The counter a number issued on `date` draws from: one per year when the
    /// pattern shows the year, else one for ever.
    pub fn series(&self, date: Date) -> String {
        if self.has_year() {
            format!("{:04}", date.year())
        } else {
            "ALL".to_owned()
        }
    }

    /// The number for the `seq`-th invoice of its series, issued on `date`.
    pub fn format(&self, date: Date, seq: u64) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.clone(),
                Part::Year4 => format!("{:04}", date.year()),
                Part::Year2 => format!("{:02}", date.year().rem_euclid(100)),
                Part::Month => format!("{:02}", date.month()),
                Part::Seq(w) => format!("{seq:0w$}"),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn numbers_follow_the_pattern_and_the_issue_dates_year() {
        let p = NumberPattern::parse("{YYYY}-{SEQ:4}").unwrap();
        assert_eq!(p.format(date(2026, 12, 31), 1), "2026-0001");
        assert_eq!(p.series(date(2026, 12, 31)), "2026");
        assert_eq!(p.series(date(2027, 1, 1)), "2027");
        assert_eq!(p.format(date(2027, 1, 1), 12345), "2027-12345");
        let q = NumberPattern::parse("INV-{SEQ:5}").unwrap();
        assert_eq!(q.series(date(2026, 1, 1)), q.series(date(2030, 1, 1)));
        assert_eq!(q.format(date(2026, 1, 1), 42), "INV-00042");
        let m = NumberPattern::parse("{YY}{MM}/{SEQ}").unwrap();
        assert_eq!(m.format(date(2026, 3, 9), 7), "2603/7");
    }

    #[test]
    fn patterns_that_cannot_number_are_refused() {
        for (bad, err) in [
            ("{YYYY}", PatternError::NoCounter),
            ("{SEQ}{SEQ}", PatternError::NoCounter),
            ("{SEQ:0}", PatternError::Width),
            ("{DD}-{SEQ}", PatternError::Unknown("{DD}".into())),
            ("A B{SEQ}", PatternError::Text),
            ("{MM}-{SEQ}", PatternError::MonthWithoutYear),
            ("VERY-LONG-PREFIX-{SEQ:4}", PatternError::TooLong),
        ] {
            assert_eq!(NumberPattern::parse(bad), Err(err), "{bad}");
        }
    }
}
