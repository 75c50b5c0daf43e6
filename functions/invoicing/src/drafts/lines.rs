//! Pure: how claimed work becomes invoice lines, and how lines are priced.
//!
//! A time line groups entries by the invoice's grouping (project, task, person
//! or entry) and, within that, by bill rate and rounding rule, so one line has
//! one unit price and one rule. Its hours are the entries' billed minutes
//! summed (rounded once more when the rule applies per line), priced from the
//! total: two 15-minute entries bill what one 30-minute entry bills.

use std::collections::BTreeMap;

use agencyops_domain::invoice::{self, Discount, InvoiceMathError, LineInput};
use agencyops_domain::rounding::{RoundingScope, TimeRounding};
use agencyops_store::records::{
    ClaimedWork, ExpenseGrouping, Invoice, InvoiceLine, LineKind, LineUnit, TimeGrouping, WorkKind,
};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

/// Names lines and entries print (project, task and person names).
#[derive(Clone, Debug, Default)]
pub struct Names {
    pub projects: BTreeMap<String, String>,
    pub tasks: BTreeMap<String, String>,
    pub people: BTreeMap<String, String>,
}

impl Names {
    fn project<'a>(&'a self, id: &'a str) -> &'a str {
        self.projects.get(id).map(String::as_str).unwrap_or(id)
    }
    fn person<'a>(&'a self, id: &'a str) -> &'a str {
        self.people.get(id).map(String::as_str).unwrap_or(id)
    }
    fn task(&self, id: Option<&str>) -> &str {
        id.and_then(|t| self.tasks.get(t))
            .map(String::as_str)
            .unwrap_or("No task")
    }
}

/// A stable line id from what the line groups, so edits can name it.
pub fn line_id(prefix: &str, group: &str) -> String {
    let digest = Sha256::digest(group.as_bytes());
    format!("{prefix}-{}", &hex::encode(digest)[..12])
}

fn per_line(rule: Option<TimeRounding>) -> Option<TimeRounding> {
    rule.filter(|r| r.scope == RoundingScope::PerLine)
}

/// The group a piece of work falls in, and that group's description.
fn group_of(
    w: &ClaimedWork,
    time: TimeGrouping,
    expenses: ExpenseGrouping,
    names: &Names,
) -> (String, String) {
    match w.kind {
        WorkKind::Time => {
            let (key, text) = match time {
                TimeGrouping::Project => (
                    w.project_id.clone(),
                    names.project(&w.project_id).to_owned(),
                ),
                TimeGrouping::Task => (
                    format!("{}/{}", w.project_id, w.task_id.as_deref().unwrap_or("-")),
                    format!(
                        "{}: {}",
                        names.project(&w.project_id),
                        names.task(w.task_id.as_deref())
                    ),
                ),
                TimeGrouping::Person => {
                    (w.person_id.clone(), names.person(&w.person_id).to_owned())
                }
                TimeGrouping::Entry => {
                    let note = if w.note.trim().is_empty() {
                        names.project(&w.project_id)
                    } else {
                        w.note.trim()
                    };
                    (
                        w.id.clone(),
                        format!("{} {}: {note}", w.date, names.person(&w.person_id)),
                    )
                }
            };
            // One unit price and one rounding rule per line.
            let rate = w
                .bill_rate
                .map(|r| r.normalize().to_string())
                .unwrap_or_default();
            let rule = per_line(w.rounding)
                .map(|r| format!("{r:?}"))
                .unwrap_or_default();
            (format!("time|{key}|{rate}|{rule}"), text)
        }
        WorkKind::Expense => {
            let category = w.category.as_deref().unwrap_or("Other");
            match expenses {
                ExpenseGrouping::Category => (
                    format!("expense|{category}"),
                    format!("Expenses: {category}"),
                ),
                ExpenseGrouping::Expense => {
                    let note = w.note.trim();
                    let text = if note.is_empty() {
                        format!("{} {category}", w.date)
                    } else {
                        format!("{} {category}: {note}", w.date)
                    };
                    (format!("expense|{}", w.id), text)
                }
            }
        }
    }
}

/// Gives each piece of work the id of the line it bills on.
pub fn assign(
    work: &mut [ClaimedWork],
    time: TimeGrouping,
    expenses: ExpenseGrouping,
    names: &Names,
) {
    for w in work.iter_mut() {
        let (group, _) = group_of(w, time, expenses, names);
        w.line_id = line_id(if w.kind == WorkKind::Time { "T" } else { "X" }, &group);
    }
}

/// A line being built: the line, its billed minutes, its per-line rounding rule.
type Grouped = (InvoiceLine, u64, Option<TimeRounding>);

/// The time and expense lines of claimed work (unpriced: [`reprice`] prices them).
/// Work arrives in any order; lines come out in a stable order (time, then
/// expenses, each by description).
pub fn work_lines(
    work: &[&ClaimedWork],
    time: TimeGrouping,
    expenses: ExpenseGrouping,
    names: &Names,
    tax_codes: &[String],
) -> Vec<InvoiceLine> {
    let mut lines: BTreeMap<(u8, String, String), Grouped> = BTreeMap::new();
    for w in work {
        let (_, text) = group_of(w, time, expenses, names);
        let order = u8::from(w.kind == WorkKind::Expense);
        let id = w.line_id.clone();
        let entry = lines
            .entry((order, text.clone(), id.clone()))
            .or_insert_with(|| {
                (
                    InvoiceLine {
                        id,
                        kind: if w.kind == WorkKind::Time {
                            LineKind::Time
                        } else {
                            LineKind::Expense
                        },
                        description: text,
                        quantity: Decimal::ZERO,
                        unit: if w.kind == WorkKind::Time {
                            LineUnit::Hours
                        } else {
                            LineUnit::Each
                        },
                        unit_price: w.bill_rate.unwrap_or_default(),
                        adjustment: Decimal::ZERO,
                        gross: Decimal::ZERO,
                        amount: Decimal::ZERO,
                        tax_codes: tax_codes.to_vec(),
                        minutes: None,
                        project_id: Some(w.project_id.clone()),
                        milestone_id: None,
                        work_count: 0,
                        service_date: None,
                    },
                    0,
                    per_line(w.rounding),
                )
            });
        let (line, minutes, _) = entry;
        line.work_count += 1;
        line.service_date = line.service_date.max(Some(w.date));
        if line.project_id.as_deref() != Some(w.project_id.as_str()) {
            line.project_id = None;
        }
        match w.kind {
            WorkKind::Time => *minutes += u64::from(w.billed_minutes.unwrap_or(0)),
            // An expense line bills the expenses' amounts (with markup) as one item.
            WorkKind::Expense => {
                line.quantity = Decimal::ONE;
                line.unit_price += w.value;
            }
        }
    }
    lines
        .into_values()
        .map(|(mut line, minutes, rule)| {
            if line.kind == LineKind::Time {
                let billed = match rule {
                    Some(r) => u64::from(r.apply(u32::try_from(minutes).unwrap_or(u32::MAX))),
                    None => minutes,
                };
                line.minutes = Some(billed);
                line.quantity = invoice::hours(billed);
            }
            line
        })
        .collect()
}

/// Prices every line and sets the invoice's totals, by the invoice maths.
pub fn reprice(inv: &mut Invoice) -> Result<(), InvoiceMathError> {
    let inputs: Vec<LineInput> = inv
        .lines
        .iter()
        .map(|l| LineInput {
            quantity: l.quantity,
            unit_price: l.unit_price,
            adjustment: l.adjustment,
            tax_codes: l.tax_codes.clone(),
        })
        .collect();
    let t = invoice::price(
        &inputs,
        inv.discount,
        &inv.tax_rates,
        inv.currency,
        inv.rounding,
    )?;
    for (line, priced) in inv.lines.iter_mut().zip(t.lines) {
        line.gross = priced.gross;
        line.amount = priced.amount;
    }
    inv.line_total = t.line_total;
    inv.discount_total = t.discount_total;
    inv.tax_breakdown = t.tax_breakdown;
    inv.tax_total = t.tax_total;
    inv.total = t.total;
    Ok(())
}

/// A discount as the request gives it.
pub fn discount(percent: Option<Decimal>, amount: Option<Decimal>) -> Option<Discount> {
    match (percent, amount) {
        (Some(p), _) => Some(Discount::Percent(p)),
        (None, Some(a)) => Some(Discount::Amount(a)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agencyops_domain::rounding::RoundingMode;
    use jiff::civil::date;
    use rust_decimal_macros::dec;

    fn entry(id: &str, person: &str, minutes: u32, rate: Decimal) -> ClaimedWork {
        ClaimedWork {
            kind: WorkKind::Time,
            id: id.into(),
            pk: "pk".into(),
            sk: id.into(),
            line_id: String::new(),
            project_id: "p1".into(),
            person_id: person.into(),
            task_id: None,
            date: date(2026, 11, 20),
            note: String::new(),
            minutes: Some(minutes),
            billed_minutes: Some(minutes),
            bill_rate: Some(rate),
            value: rate * Decimal::from(minutes) / Decimal::from(60),
            cost: None,
            category: None,
            has_receipt: false,
            rounding: None,
        }
    }

    fn names() -> Names {
        let mut n = Names::default();
        n.projects.insert("p1".into(), "Brand refresh".into());
        n.people.insert("ana".into(), "Ana".into());
        n.people.insert("rui".into(), "Rui".into());
        n
    }

    #[test]
    fn a_line_is_priced_from_its_total_hours() {
        let mut work = vec![
            entry("e1", "ana", 15, dec!(27.50)),
            entry("e2", "rui", 15, dec!(27.50)),
        ];
        assign(
            &mut work,
            TimeGrouping::Project,
            ExpenseGrouping::Category,
            &names(),
        );
        let refs: Vec<_> = work.iter().collect();
        let lines = work_lines(
            &refs,
            TimeGrouping::Project,
            ExpenseGrouping::Category,
            &names(),
            &[],
        );
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].quantity, dec!(0.5));
        assert_eq!(lines[0].description, "Brand refresh");
        let amount = invoice::line_amount(
            lines[0].quantity,
            lines[0].unit_price,
            agencyops_domain::Currency::parse("EUR").unwrap(),
            agencyops_domain::MoneyRounding::HalfUp,
        )
        .unwrap();
        assert_eq!(amount, dec!(13.75));
    }

    #[test]
    fn different_rates_never_share_a_line_and_per_line_rounding_rounds_the_sum() {
        let rule = TimeRounding {
            increment_minutes: 15,
            mode: RoundingMode::Up,
            scope: RoundingScope::PerLine,
        };
        let mut work = vec![
            entry("e1", "ana", 7, dec!(100)),
            entry("e2", "ana", 7, dec!(100)),
            entry("e3", "rui", 60, dec!(80)),
        ];
        for w in &mut work {
            w.rounding = Some(rule);
        }
        assign(
            &mut work,
            TimeGrouping::Project,
            ExpenseGrouping::Category,
            &names(),
        );
        let refs: Vec<_> = work.iter().collect();
        let lines = work_lines(
            &refs,
            TimeGrouping::Project,
            ExpenseGrouping::Category,
            &names(),
            &[],
        );
        assert_eq!(lines.len(), 2);
        let at_100 = lines.iter().find(|l| l.unit_price == dec!(100)).unwrap();
        // 7 + 7 = 14 minutes, rounded up once on the line: 15 minutes.
        assert_eq!(at_100.minutes, Some(15));
        assert_eq!(at_100.quantity, dec!(0.25));
        assert_eq!(at_100.work_count, 2);
        assert_ne!(
            at_100.id,
            lines.iter().find(|l| l.unit_price == dec!(80)).unwrap().id
        );
    }

    #[test]
    fn grouping_by_person_names_the_person_and_ids_are_stable() {
        let mut work = vec![
            entry("e1", "ana", 30, dec!(100)),
            entry("e2", "rui", 30, dec!(100)),
        ];
        assign(
            &mut work,
            TimeGrouping::Person,
            ExpenseGrouping::Category,
            &names(),
        );
        let again = work.clone();
        assign(
            &mut work,
            TimeGrouping::Person,
            ExpenseGrouping::Category,
            &names(),
        );
        assert_eq!(work, again);
        let refs: Vec<_> = work.iter().collect();
        let lines = work_lines(
            &refs,
            TimeGrouping::Person,
            ExpenseGrouping::Category,
            &names(),
            &["S20".into()],
        );
        let texts: Vec<_> = lines.iter().map(|l| l.description.as_str()).collect();
        assert_eq!(texts, ["Ana", "Rui"]);
        assert!(lines.iter().all(|l| l.tax_codes == ["S20"]));
    }
}
