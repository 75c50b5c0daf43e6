//! The pure part of the work-in-progress report: sums per project, client and
//! currency, rounded once from exact values. No storage, so every rule has a test.

use std::collections::{BTreeMap, HashMap};

use agencyops_domain::timesheet::hours;
use agencyops_domain::{Currency, MoneyRounding};
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::Work;
use crate::insights::{Amount, ROUNDING};

/// Running sums of one group, in one currency.
#[derive(Clone, Debug, PartialEq)]
struct Sums {
    currency: Currency,
    billed_minutes: u64,
    time_value: Decimal,
    expense_value: Decimal,
    oldest: Option<Date>,
    entries: u32,
    expenses: u32,
}

impl Sums {
    fn new(currency: Currency) -> Sums {
        Sums {
            currency,
            billed_minutes: 0,
            time_value: Decimal::ZERO,
            expense_value: Decimal::ZERO,
            oldest: None,
            entries: 0,
            expenses: 0,
        }
    }
    fn add(&mut self, w: &Work) {
        match w.billed_minutes {
            Some(m) => {
                self.billed_minutes += u64::from(m);
                self.time_value += w.value;
                self.entries += 1;
            }
            None => {
                self.expense_value += w.value;
                self.expenses += 1;
            }
        }
        self.oldest = oldest(self.oldest, Some(w.date));
    }
    fn merge(&mut self, o: &Sums) {
        self.billed_minutes += o.billed_minutes;
        self.time_value += o.time_value;
        self.expense_value += o.expense_value;
        self.entries += o.entries;
        self.expenses += o.expenses;
        self.oldest = oldest(self.oldest, o.oldest);
    }
    fn figures(&self, today: Date) -> WipFigures {
        let c = self.currency;
        WipFigures {
            currency: c,
            hours: hours(self.billed_minutes),
            billed_minutes: self.billed_minutes,
            time_value: Amount::of(self.time_value, c),
            expense_value: Amount::of(self.expense_value, c),
            // The total is rounded once from the exact sum, never summed from
            // rounded parts.
            total: Amount::of(self.time_value + self.expense_value, c),
            oldest_work_date: self.oldest,
            age_days: self
                .oldest
                .and_then(|d| d.until(today).ok())
                .map(|s| s.get_days()),
            entries: self.entries,
            expenses: self.expenses,
        }
    }
}

fn oldest(a: Option<Date>, b: Option<Date>) -> Option<Date> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The sums of one group of work in one currency.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct WipFigures {
    #[schema(value_type = String, example = "EUR")]
    pub currency: Currency,
    /// Billed hours (after the projects' time rounding).
    #[schema(value_type = String, example = "1.75")]
    #[serde(with = "rust_decimal::serde::str")]
    pub hours: Decimal,
    pub billed_minutes: u64,
    pub time_value: Amount,
    /// Re-billed expenses, markup included.
    pub expense_value: Amount,
    pub total: Amount,
    /// The oldest unbilled work: how long money has waited to be invoiced.
    #[schema(value_type = Option<String>, example = "2026-11-02")]
    pub oldest_work_date: Option<Date>,
    /// Days from the oldest work to today.
    pub age_days: Option<i32>,
    /// Time entries counted.
    pub entries: u32,
    /// Expenses counted.
    pub expenses: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ProjectWip {
    pub project_id: String,
    pub project_name: Option<String>,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    #[serde(flatten)]
    pub figures: WipFigures,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ClientWip {
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    /// Projects with unbilled work.
    pub projects: u32,
    #[serde(flatten)]
    pub figures: WipFigures,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct WipReport {
    /// The day ages are counted to (UTC).
    #[schema(value_type = String, example = "2026-11-20")]
    pub as_of: Date,
    pub rounding: MoneyRounding,
    /// By client name, then project name.
    pub projects: Vec<ProjectWip>,
    /// By client name.
    pub clients: Vec<ClientWip>,
    /// One row per currency: the agency's WIP.
    pub totals: Vec<WipFigures>,
}

/// What the report shows about a project besides its work.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProjectInfo {
    pub name: String,
    pub client_id: String,
    pub client_name: Option<String>,
}

/// A client's running sums in one currency.
struct ClientSums {
    name: Option<String>,
    projects: u32,
    sums: Sums,
}

/// Groups the work per project, client and currency.
pub fn report(work: &[Work], info: &HashMap<String, ProjectInfo>, today: Date) -> WipReport {
    let mut by_project: BTreeMap<(String, &str), Sums> = BTreeMap::new();
    for w in work {
        by_project
            .entry((w.project_id.clone(), w.currency.code()))
            .or_insert_with(|| Sums::new(w.currency))
            .add(w);
    }
    let mut by_client: BTreeMap<(Option<String>, &str), ClientSums> = BTreeMap::new();
    let mut totals: BTreeMap<&str, Sums> = BTreeMap::new();
    let mut projects = Vec::with_capacity(by_project.len());
    for ((project_id, code), sums) in &by_project {
        let code: &str = code;
        let p = info.get(project_id);
        let client_id = p.map(|p| p.client_id.clone());
        let client_name = p.and_then(|p| p.client_name.clone());
        let c = by_client
            .entry((client_id.clone(), code))
            .or_insert_with(|| ClientSums {
                name: client_name.clone(),
                projects: 0,
                sums: Sums::new(sums.currency),
            });
        c.projects += 1;
        c.sums.merge(sums);
        totals
            .entry(code)
            .or_insert_with(|| Sums::new(sums.currency))
            .merge(sums);
        projects.push(ProjectWip {
            project_id: project_id.clone(),
            project_name: p.map(|p| p.name.clone()),
            client_id,
            client_name,
            figures: sums.figures(today),
        });
    }
    projects.sort_by(|a, b| {
        (&a.client_name, &a.project_name, &a.project_id).cmp(&(
            &b.client_name,
            &b.project_name,
            &b.project_id,
        ))
    });
    let mut clients: Vec<ClientWip> = by_client
        .into_iter()
        .map(|((client_id, _), c)| ClientWip {
            client_id,
            client_name: c.name,
            projects: c.projects,
            figures: c.sums.figures(today),
        })
        .collect();
    clients.sort_by(|a, b| (&a.client_name, &a.client_id).cmp(&(&b.client_name, &b.client_id)));
    WipReport {
        as_of: today,
        rounding: ROUNDING,
        projects,
        clients,
        totals: totals.values().map(|s| s.figures(today)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agencyops_domain::timesheet::value_of;
    use jiff::civil::date;
    use rust_decimal_macros::dec;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    fn time(project: &str, day: i8, minutes: u32, rate: Decimal, c: Currency) -> Work {
        Work {
            project_id: project.into(),
            date: date(2026, 11, day),
            currency: c,
            billed_minutes: Some(minutes),
            value: value_of(minutes, rate).unwrap(),
            week: None,
        }
    }

    fn expense(project: &str, day: i8, value: Decimal) -> Work {
        Work {
            project_id: project.into(),
            date: date(2026, 11, day),
            currency: eur(),
            billed_minutes: None,
            value,
            week: None,
        }
    }

    fn info() -> HashMap<String, ProjectInfo> {
        let p = |name: &str, client: &str| ProjectInfo {
            name: name.into(),
            client_id: client.into(),
            client_name: Some(client.to_uppercase()),
        };
        HashMap::from([
            ("p1".into(), p("Rebrand", "c1")),
            ("p2".into(), p("Website", "c1")),
            ("p3".into(), p("App", "c2")),
        ])
    }

    #[test]
    fn a_project_sums_exactly_and_rounds_once() {
        let work = [
            time("p1", 16, 90, dec!(100), eur()),
            time("p1", 17, 15, dec!(27.50), eur()),
            time("p1", 18, 15, dec!(27.50), eur()),
            expense("p1", 10, dec!(44)),
        ];
        let r = report(&work, &info(), date(2026, 11, 20));
        let p = &r.projects[0].figures;
        assert_eq!(p.time_value.exact, dec!(163.75));
        assert_eq!(p.time_value.amount, dec!(163.75));
        assert_eq!(p.total.exact, dec!(207.75));
        assert_eq!(p.hours, dec!(2));
        assert_eq!((p.entries, p.expenses), (3, 1));
        assert_eq!(p.oldest_work_date, Some(date(2026, 11, 10)));
        assert_eq!(p.age_days, Some(10));
    }

    #[test]
    fn clients_and_totals_add_projects_but_never_currencies() {
        let usd = Currency::parse("USD").unwrap();
        let work = [
            time("p1", 16, 60, dec!(100), eur()),
            time("p2", 16, 30, dec!(100), eur()),
            time("p3", 12, 60, dec!(150), usd),
            // A project billed in two currencies stays two rows.
            time("p2", 17, 60, dec!(10), usd),
        ];
        let r = report(&work, &info(), date(2026, 11, 20));
        assert_eq!(r.projects.len(), 4);
        let c1_eur = r
            .clients
            .iter()
            .find(|c| c.client_id.as_deref() == Some("c1") && c.figures.currency == eur())
            .unwrap();
        assert_eq!(
            (c1_eur.projects, c1_eur.figures.total.exact),
            (2, dec!(150))
        );
        let totals: Vec<_> = r
            .totals
            .iter()
            .map(|t| (t.currency.code(), t.total.exact))
            .collect();
        assert_eq!(totals, vec![("EUR", dec!(150)), ("USD", dec!(160))]);
    }

    #[test]
    fn work_without_a_known_project_is_still_counted() {
        let r = report(
            &[expense("gone", 1, dec!(5))],
            &HashMap::new(),
            date(2026, 11, 20),
        );
        assert_eq!(r.projects[0].client_id, None);
        assert_eq!(r.clients[0].figures.total.exact, dec!(5));
        assert_eq!(r.totals[0].total.exact, dec!(5));
    }
}
