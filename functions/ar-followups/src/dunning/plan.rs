//! Which reminder an invoice is due, from a policy, a due date and a day:
//! pure, so every rule of "each stage once, the latest one, only when owed"
//! is tested without a store.
//!
//! The steps of a policy are its stages in offset order, then the repeats of
//! the last stage. On a day the step that fires is the latest one whose date
//! has come (a run that missed days sends that one, not every missed one,
//! and the later steps still come on their dates). Whether it already fired
//! is the marker's business, not this module's.

use agencyops_domain::{Currency, MoneyRounding};
use agencyops_store::records::{DunningPolicy, DunningStage, LateFee};
use jiff::civil::Date;
use jiff::Span;
use rust_decimal::Decimal;

/// Bounds of a stage's `offset_days`: at most 30 days before the due date
/// (the due index places a never-chased invoice there) and a year after.
pub const MIN_OFFSET_DAYS: i32 = -(agencyops_store::records::DUNNING_MAX_LEAD_DAYS as i32);
pub const MAX_OFFSET_DAYS: i32 = 365;
pub const MAX_STAGES: usize = 10;
pub const MAX_REPEATS: u32 = 24;
pub const MAX_REPEAT_EVERY_DAYS: u32 = 90;
pub const MAX_QUIET_DAYS: u32 = 60;
/// The fixed compensation of 2011/7/EU art. 6, charged once per invoice in EUR.
pub const EU_COMPENSATION_EUR: Decimal = Decimal::from_parts(40, 0, 0, false, 0);
/// Points above the reference rate of 2011/7/EU art. 2(6).
pub const EU_STATUTORY_POINTS: Decimal = Decimal::from_parts(8, 0, 0, false, 0);

/// Where an invoice with nothing left to send sits in the due index: never
/// read by a daily run, until a policy change places it again.
pub fn never() -> Date {
    Date::constant(9999, 12, 31)
}

/// One reminder an invoice may receive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The marker's id: `STAGE#name` or `REPEAT#n`.
    pub id: String,
    /// The stage it sends (a repeat sends the last stage again).
    pub stage: usize,
    /// 1.. for repeats.
    pub repeat: Option<u32>,
    pub on: Date,
}

impl Step {
    /// The stage's name as mail and activity show it.
    pub fn label(&self, policy: &DunningPolicy) -> String {
        let name = policy
            .stages
            .get(self.stage)
            .map(|s| s.name.as_str())
            .unwrap_or("reminder");
        match self.repeat {
            Some(n) => format!("{name} (repeat {n})"),
            None => name.to_owned(),
        }
    }
}

fn add_days(d: Date, days: i64) -> Date {
    d.checked_add(Span::new().days(days)).unwrap_or(never())
}

/// Every step of `policy` for an invoice due on `due`, in date order.
pub fn steps(policy: &DunningPolicy, due: Date) -> Vec<Step> {
    let mut out: Vec<Step> = policy
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| Step {
            id: format!("STAGE#{}", s.name),
            stage: i,
            repeat: None,
            on: add_days(due, i64::from(s.offset_days)),
        })
        .collect();
    if let (Some(last), Some(every)) = (out.last().cloned(), policy.repeat_every_days) {
        for n in 1..=policy.max_repeats {
            out.push(Step {
                id: format!("REPEAT#{n}"),
                stage: last.stage,
                repeat: Some(n),
                on: add_days(last.on, i64::from(every) * i64::from(n)),
            });
        }
    }
    out
}

/// What the daily step does with one invoice today.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Send `step` (unless its marker says it was sent) and look again on `next`.
    Fire { step: Step, next: Date },
    /// Nothing today; look again on `next`.
    Wait { next: Date },
}

impl Decision {
    pub fn next(&self) -> Date {
        match self {
            Decision::Fire { next, .. } | Decision::Wait { next } => *next,
        }
    }
}

/// The first day after a manual send on which a reminder may go out.
pub fn quiet_until(policy: &DunningPolicy, last_sent_on: Option<Date>) -> Option<Date> {
    let sent = last_sent_on?;
    (policy.quiet_days_after_send > 0)
        .then(|| add_days(sent, i64::from(policy.quiet_days_after_send) + 1))
}

/// The step due on `as_of` for an invoice due on `due`, last mailed by hand
/// on `last_sent_on`.
pub fn decide(
    policy: &DunningPolicy,
    due: Date,
    as_of: Date,
    last_sent_on: Option<Date>,
) -> Decision {
    if policy.paused || policy.stages.is_empty() {
        return Decision::Wait { next: never() };
    }
    let all = steps(policy, due);
    let latest = all.iter().rposition(|s| s.on <= as_of);
    let Some(latest) = latest else {
        return Decision::Wait { next: all[0].on };
    };
    if let Some(open) = quiet_until(policy, last_sent_on) {
        if as_of < open {
            return Decision::Wait { next: open };
        }
    }
    let next = all.get(latest + 1).map(|s| s.on).unwrap_or(never());
    Decision::Fire {
        step: all[latest].clone(),
        next,
    }
}

/// A fee as charged: the exact amount in the currency's minor unit and what
/// it is made of, for the fee line and the mail.
#[derive(Clone, Debug, PartialEq)]
pub struct Fee {
    pub amount: Decimal,
    pub parts: Vec<String>,
}

/// The fee `step` charges on `balance`, rounded once to the currency's minor
/// unit by `rounding` (the invoice's rule). Repeats charge nothing; so does
/// a stage without a fee. Statutory interest runs from the day after the due
/// date (or from the previous stage that charged it) to the stage's date, on
/// a 365-day year; the EUR 40 compensation comes with the first such stage.
pub fn fee(
    policy: &DunningPolicy,
    step: &Step,
    due: Date,
    balance: Decimal,
    currency: Currency,
    rounding: MoneyRounding,
) -> Option<Fee> {
    if step.repeat.is_some() {
        return None;
    }
    let stage: &DunningStage = policy.stages.get(step.stage)?;
    let f: &LateFee = stage.late_fee.as_ref()?;
    let mut exact = Decimal::ZERO;
    let mut parts = Vec::new();
    let code = currency.code();
    if let Some(flat) = f.flat.filter(|v| !v.is_zero()) {
        exact += flat;
        parts.push(format!("{flat} {code} flat fee"));
    }
    if let Some(p) = f.percent.filter(|v| !v.is_zero()) {
        exact += balance * p / Decimal::ONE_HUNDRED;
        parts.push(format!("{p}% of the balance of {balance} {code}"));
    }
    if let Some(stat) = &f.statutory {
        let earlier = policy.stages[..step.stage].iter().rev().find(|s| {
            s.offset_days > 0 && s.late_fee.as_ref().is_some_and(|f| f.statutory.is_some())
        });
        let from = match earlier {
            Some(s) => add_days(due, i64::from(s.offset_days)),
            None => due,
        };
        let days = if step.on > from {
            i64::from((step.on - from).get_days())
        } else {
            0
        };
        if days > 0 {
            let rate = stat.reference_rate + EU_STATUTORY_POINTS;
            exact +=
                balance * rate / Decimal::ONE_HUNDRED * Decimal::from(days) / Decimal::from(365);
            parts.push(format!(
                "statutory interest (2011/7/EU) at {rate}% a year for {days} days on {balance} {code}"
            ));
            if earlier.is_none() && code == "EUR" {
                exact += EU_COMPENSATION_EUR;
                parts.push("EUR 40 fixed compensation (2011/7/EU art. 6)".into());
            }
        }
    }
    let amount = agencyops_domain::Money::rounded(exact, currency, rounding).amount;
    (amount > Decimal::ZERO).then_some(Fee { amount, parts })
}

/// The placeholders a subject or body may use.
pub const PLACEHOLDERS: &[&str] = &["number", "balance", "due_date", "client", "days_overdue"];

/// The names a template uses, or why it is not one: every `{` opens a known
/// placeholder closed by `}`.
pub fn template_names(text: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| "a '{' is never closed".to_owned())?;
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "unknown placeholder {{{name}}}; known: {}",
                PLACEHOLDERS
                    .iter()
                    .map(|p| format!("{{{p}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        names.push(name);
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err("a '}' closes nothing".into());
    }
    Ok(names)
}

/// What the placeholders stand for in one mail.
pub struct Fill<'a> {
    pub number: &'a str,
    pub balance: String,
    pub due_date: Date,
    pub client: &'a str,
    pub days_overdue: i64,
}

/// The template with its placeholders filled (templates are checked when
/// saved; anything else is left as written).
pub fn render(text: &str, fill: &Fill<'_>) -> String {
    text.replace("{number}", fill.number)
        .replace("{balance}", &fill.balance)
        .replace("{due_date}", &fill.due_date.to_string())
        .replace("{client}", fill.client)
        .replace("{days_overdue}", &fill.days_overdue.max(0).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use agencyops_store::records::StatutoryInterest;
    use rust_decimal_macros::dec;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn stage(name: &str, offset: i32, fee: Option<LateFee>) -> DunningStage {
        DunningStage {
            name: name.into(),
            offset_days: offset,
            subject: "s".into(),
            body: "b".into(),
            late_fee: fee,
        }
    }

    fn policy() -> DunningPolicy {
        let mut p = DunningPolicy::none(jiff::Timestamp::UNIX_EPOCH);
        p.stages = vec![
            stage("before", -3, None),
            stage("due", 0, None),
            stage(
                "late",
                14,
                Some(LateFee {
                    flat: Some(dec!(10)),
                    percent: Some(dec!(1.5)),
                    statutory: None,
                }),
            ),
        ];
        p.repeat_every_days = Some(7);
        p.max_repeats = 2;
        p.quiet_days_after_send = 3;
        p
    }

    fn fired(dec: Decision) -> Option<String> {
        match dec {
            Decision::Fire { step, .. } => Some(step.id),
            Decision::Wait { .. } => None,
        }
    }

    #[test]
    fn each_day_sends_the_latest_step_that_has_come() {
        let p = policy();
        let due = d("2026-12-10");
        assert_eq!(
            decide(&p, due, d("2026-12-06"), None),
            Decision::Wait {
                next: d("2026-12-07")
            }
        );
        assert_eq!(
            fired(decide(&p, due, d("2026-12-07"), None)).unwrap(),
            "STAGE#before"
        );
        assert_eq!(
            fired(decide(&p, due, d("2026-12-10"), None)).unwrap(),
            "STAGE#due"
        );
        // Missed every day from the 7th to the 30th: only the latest, and the next still comes.
        let late = decide(&p, due, d("2026-12-30"), None);
        assert_eq!(late.next(), d("2026-12-31"));
        assert_eq!(fired(late).unwrap(), "STAGE#late");
        assert_eq!(
            fired(decide(&p, due, d("2027-01-06"), None)).unwrap(),
            "REPEAT#1"
        );
        assert_eq!(
            fired(decide(&p, due, d("2027-01-07"), None)).unwrap(),
            "REPEAT#2"
        );
        assert_eq!(decide(&p, due, d("2027-01-07"), None).next(), never());
    }

    #[test]
    fn a_manual_send_keeps_reminders_quiet_for_the_policys_days() {
        let p = policy();
        let due = d("2026-12-10");
        assert_eq!(
            decide(&p, due, d("2026-12-11"), Some(d("2026-12-09"))),
            Decision::Wait {
                next: d("2026-12-13")
            }
        );
        assert_eq!(
            fired(decide(&p, due, d("2026-12-13"), Some(d("2026-12-09")))).unwrap(),
            "STAGE#due"
        );
    }

    #[test]
    fn a_paused_or_empty_policy_sends_nothing() {
        let mut p = policy();
        p.paused = true;
        assert_eq!(
            decide(&p, d("2026-12-10"), d("2026-12-20"), None).next(),
            never()
        );
        let none = DunningPolicy::none(jiff::Timestamp::UNIX_EPOCH);
        assert_eq!(
            decide(&none, d("2026-12-10"), d("2026-12-20"), None).next(),
            never()
        );
    }

    #[test]
    fn fees_are_exact_in_the_minor_unit_and_only_on_stages_that_carry_one() {
        let p = policy();
        let eur = Currency::parse("EUR").unwrap();
        let all = steps(&p, d("2026-12-10"));
        assert_eq!(
            fee(
                &p,
                &all[0],
                d("2026-12-10"),
                dec!(1000),
                eur,
                MoneyRounding::HalfUp
            ),
            None
        );
        let f = fee(
            &p,
            &all[2],
            d("2026-12-10"),
            dec!(333.33),
            eur,
            MoneyRounding::HalfUp,
        )
        .unwrap();
        // 10 + 1.5% of 333.33 = 10 + 4.99995 = 14.99995 -> 15.00 half up.
        assert_eq!(f.amount, dec!(15.00));
        assert_eq!(f.parts.len(), 2);
        assert_eq!(
            fee(
                &p,
                &all[3],
                d("2026-12-10"),
                dec!(1000),
                eur,
                MoneyRounding::HalfUp
            ),
            None,
            "repeats charge nothing"
        );
        let jpy = Currency::parse("JPY").unwrap();
        let f = fee(
            &p,
            &all[2],
            d("2026-12-10"),
            dec!(1001),
            jpy,
            MoneyRounding::HalfEven,
        )
        .unwrap();
        // 10 + 15.015 = 25.015 -> 25 (no minor unit).
        assert_eq!(f.amount, dec!(25));
    }

    #[test]
    fn statutory_interest_runs_from_the_day_after_due_and_adds_forty_euros_once() {
        let stat = || {
            Some(LateFee {
                flat: None,
                percent: None,
                statutory: Some(StatutoryInterest {
                    reference_rate: dec!(2.15),
                }),
            })
        };
        let mut p = DunningPolicy::none(jiff::Timestamp::UNIX_EPOCH);
        p.stages = vec![
            stage("a", 0, stat()),
            stage("b", 30, stat()),
            stage("c", 60, stat()),
        ];
        let eur = Currency::parse("EUR").unwrap();
        let due = d("2026-12-10");
        let all = steps(&p, due);
        assert_eq!(
            fee(&p, &all[0], due, dec!(10000), eur, MoneyRounding::HalfUp),
            None
        );
        // 10000 x 10.15% x 30/365 = 83.4246.. + 40
        let b = fee(&p, &all[1], due, dec!(10000), eur, MoneyRounding::HalfUp).unwrap();
        assert_eq!(b.amount, dec!(123.42));
        // The next 30 days only, no second compensation.
        let c = fee(&p, &all[2], due, dec!(10000), eur, MoneyRounding::HalfUp).unwrap();
        assert_eq!(c.amount, dec!(83.42));
    }

    #[test]
    fn templates_name_only_known_placeholders() {
        assert_eq!(
            template_names("Invoice {number}: {balance} due {due_date}").unwrap(),
            ["number", "balance", "due_date"]
        );
        assert!(template_names("Hi {name}").is_err());
        assert!(template_names("Hi {client").is_err());
        assert!(template_names("Hi client}").is_err());
        let fill = Fill {
            number: "2026-0001",
            balance: "10.00 EUR".into(),
            due_date: d("2026-12-10"),
            client: "Northwind",
            days_overdue: -3,
        };
        assert_eq!(
            render(
                "{client}: {number} {balance} {due_date} +{days_overdue}",
                &fill
            ),
            "Northwind: 2026-0001 10.00 EUR 2026-12-10 +0"
        );
    }
}
