//! `GET /v1/reports/utilization`: per person, recorded hours against capacity
//! over a period. Utilization is billable hours over capacity, the figure
//! agencies staff and price by; total hours over capacity shows who is
//! overloaded. Every recorded entry counts except rejected ones, which are
//! being redone: a week still waiting for approval is still worked time.

use agencyops_domain::budget::percent_used;
use agencyops_domain::timesheet::{capacity_hours, hours, WorkStatus};
use agencyops_domain::{validate, Role};
use agencyops_platform::access;
use agencyops_platform::error::Problems;
use agencyops_platform::extract::Query;
use agencyops_platform::{ApiResult, Caller, Services};
use agencyops_store::record::all;
use agencyops_store::records::{Person, TimeEntry};
use agencyops_store::{keys, Index, Query as StoreQuery, SkCondition};
use axum::extract::State;
use jiff::civil::Date;
use jiff::ToSpan;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest period one report covers (a leap year).
pub const MAX_DAYS: i32 = 366;

/// Items read per query page.
const READ_PAGE: usize = 500;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UtilizationParams {
    /// First day, inclusive (YYYY-MM-DD).
    #[param(value_type = String, format = Date, example = "2026-11-16")]
    pub from: Option<String>,
    /// Last day, inclusive; at most 366 days after `from` counted inclusively.
    #[param(value_type = String, format = Date, example = "2026-11-22")]
    pub to: Option<String>,
}

/// The period asked for, or 400 naming what is wrong with it.
pub fn period(params: &UtilizationParams) -> ApiResult<(Date, Date)> {
    let mut p = Problems::new();
    let mut day = |field: &str, v: &Option<String>| match v {
        None => {
            p.add(field, "is required");
            None
        }
        Some(s) => p.check(field, validate::date(s)),
    };
    let from = day("query.from", &params.from);
    let to = day("query.to", &params.to);
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            p.add("query.to", "must not be before from");
        } else if from
            .checked_add((MAX_DAYS - 1).days())
            .is_ok_and(|last| to > last)
        {
            p.add(
                "query.to",
                format!("a report covers at most {MAX_DAYS} days"),
            );
        }
    }
    p.finish()?;
    match (from, to) {
        (Some(f), Some(t)) => Ok((f, t)),
        // finish() refused anything else above.
        _ => Err(agencyops_platform::ApiError::BadRequest(
            "from and to are required".into(),
        )),
    }
}

/// Minutes one person recorded in the period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub minutes: u64,
    pub billable_minutes: u64,
}

impl Tally {
    pub fn add(&mut self, entry: &TimeEntry) {
        if entry.status == WorkStatus::Rejected {
            return;
        }
        self.minutes += u64::from(entry.minutes);
        if entry.billable {
            self.billable_minutes += u64::from(entry.minutes);
        }
    }
    pub fn plus(self, other: Tally) -> Tally {
        Tally {
            minutes: self.minutes + other.minutes,
            billable_minutes: self.billable_minutes + other.billable_minutes,
        }
    }
}

/// Hours against capacity, for one person or the whole agency.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Figures {
    #[schema(value_type = String, example = "40")]
    #[serde(with = "rust_decimal::serde::str")]
    pub capacity_hours: Decimal,
    #[schema(value_type = String, example = "35")]
    #[serde(with = "rust_decimal::serde::str")]
    pub total_hours: Decimal,
    #[schema(value_type = String, example = "30")]
    #[serde(with = "rust_decimal::serde::str")]
    pub billable_hours: Decimal,
    #[schema(value_type = String, example = "5")]
    #[serde(with = "rust_decimal::serde::str")]
    pub non_billable_hours: Decimal,
    /// Billable hours as a percentage of capacity; none without capacity.
    #[schema(value_type = Option<String>, example = "75")]
    #[serde(with = "rust_decimal::serde::str_option")]
    pub utilization_percent: Option<Decimal>,
    /// All hours as a percentage of capacity; over 100 is overtime.
    #[schema(value_type = Option<String>, example = "87.5")]
    #[serde(with = "rust_decimal::serde::str_option")]
    pub total_percent: Option<Decimal>,
}

pub fn figures(capacity: Decimal, t: Tally) -> Figures {
    // Percentages from exact minutes; shown hours are rounded to 2 places.
    let exact = |m: u64| Decimal::from(m) / Decimal::from(60);
    Figures {
        capacity_hours: capacity,
        total_hours: hours(t.minutes),
        billable_hours: hours(t.billable_minutes),
        non_billable_hours: hours(t.minutes - t.billable_minutes),
        utilization_percent: percent_used(exact(t.billable_minutes), capacity),
        total_percent: percent_used(exact(t.minutes), capacity),
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct PersonUtilization {
    pub person_id: String,
    pub name: String,
    pub role: Role,
    pub job_role: Option<String>,
    #[schema(value_type = String, example = "40")]
    #[serde(with = "rust_decimal::serde::str")]
    pub weekly_capacity_hours: Decimal,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct UtilizationReport {
    #[schema(value_type = String, example = "2026-11-16")]
    pub from: Date,
    #[schema(value_type = String, example = "2026-11-22")]
    pub to: Date,
    /// Active staff and contractors, by name.
    pub people: Vec<PersonUtilization>,
    /// The agency as a whole: the sums of the rows.
    pub totals: Figures,
}

/// Whose time the report covers: people who work for the agency, still active.
pub fn counts(person: &Person) -> bool {
    person.active && person.role.works_for_the_agency()
}

/// The report from each counted person's tally.
pub fn report(from: Date, to: Date, people: Vec<(Person, Tally)>) -> UtilizationReport {
    let mut rows = Vec::with_capacity(people.len());
    let (mut capacity, mut all) = (Decimal::ZERO, Tally::default());
    for (person, tally) in people {
        let cap = capacity_hours(person.weekly_capacity_hours, from, to);
        capacity += cap;
        all = all.plus(tally);
        rows.push(PersonUtilization {
            figures: figures(cap, tally),
            person_id: person.id,
            name: person.name,
            role: person.role,
            job_role: person.job_role,
            weekly_capacity_hours: person.weekly_capacity_hours,
        });
    }
    rows.sort_by(|a, b| (&a.name, &a.person_id).cmp(&(&b.name, &b.person_id)));
    UtilizationReport {
        from,
        to,
        people: rows,
        totals: figures(capacity, all),
    }
}

/// Everyone in the tenant's people partition.
async fn all_people(s: &Services, tenant: &str) -> ApiResult<Vec<Person>> {
    let q = StoreQuery::new(Index::Table, keys::people(tenant)).limit(READ_PAGE);
    Ok(all::<Person>(&*s.table, &q).await?)
}

/// What one person recorded between `from` and `to`, every page of it.
async fn tally_of(
    s: &Services,
    tenant: &str,
    person: &str,
    from: Date,
    to: Date,
) -> ApiResult<Tally> {
    let (lo, hi) = keys::entry_range(&from.to_string(), &to.to_string());
    let q = StoreQuery::new(Index::Table, keys::person_time(tenant, person))
        .sk(SkCondition::Between(lo, hi))
        .limit(READ_PAGE);
    let mut tally = Tally::default();
    for e in &all::<TimeEntry>(&*s.table, &q).await? {
        tally.add(e);
    }
    Ok(tally)
}

#[utoipa::path(get, path = "/v1/reports/utilization", tag = "reports", params(UtilizationParams),
    responses((status = 200, body = UtilizationReport), (status = 400), (status = 403)), operation_id = "utilization_report")]
pub async fn utilization_report(
    State(s): State<Services>,
    caller: Caller,
    Query(params): Query<UtilizationParams>,
) -> ApiResult<axum::Json<UtilizationReport>> {
    access::require_reads_reports(&caller)?;
    let (from, to) = period(&params)?;
    let mut rows = Vec::new();
    for person in all_people(&s, &caller.tenant).await? {
        if counts(&person) {
            let tally = tally_of(&s, &caller.tenant, &person.id, from, to).await?;
            rows.push((person, tally));
        }
    }
    Ok(axum::Json(report(from, to, rows)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use agencyops_store::records::EntrySource;
    use jiff::civil::date;
    use jiff::Timestamp;
    use rust_decimal_macros::dec;

    fn entry(minutes: u32, billable: bool, status: WorkStatus) -> TimeEntry {
        TimeEntry {
            id: "e".into(),
            person_id: "u".into(),
            project_id: "p".into(),
            task_id: None,
            date: date(2026, 11, 16),
            minutes,
            note: String::new(),
            billable,
            status,
            source: EntrySource::Manual,
            approval: None,
            rejection: None,
            invoice_id: None,
            recorded_by: None,
            changed_by: None,
            version: 1,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn person(name: &str, role: Role, active: bool) -> Person {
        Person {
            id: name.to_lowercase(),
            name: name.into(),
            email: format!("{name}@x.io"),
            role,
            job_role: None,
            cost_rate: None,
            default_bill_rate: None,
            weekly_capacity_hours: dec!(40),
            time_zone: "UTC".into(),
            client_id: None,
            active,
            version: 1,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn params(from: Option<&str>, to: Option<&str>) -> UtilizationParams {
        UtilizationParams {
            from: from.map(Into::into),
            to: to.map(Into::into),
        }
    }

    fn fields(r: ApiResult<(Date, Date)>) -> Vec<String> {
        match r {
            Err(agencyops_platform::ApiError::Validation(e)) => {
                e.into_iter().map(|f| f.field).collect()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rejected_work_does_not_count_but_waiting_work_does() {
        let mut t = Tally::default();
        for e in [
            entry(600, true, WorkStatus::Approved),
            entry(60, true, WorkStatus::Draft),
            entry(120, false, WorkStatus::Submitted),
            entry(240, true, WorkStatus::Rejected),
            entry(30, true, WorkStatus::Invoiced),
        ] {
            t.add(&e);
        }
        assert_eq!(
            t,
            Tally {
                minutes: 810,
                billable_minutes: 690
            }
        );
    }

    #[test]
    fn thirty_billable_hours_of_forty_is_75_percent() {
        let f = figures(
            dec!(40),
            Tally {
                minutes: 35 * 60,
                billable_minutes: 30 * 60,
            },
        );
        assert_eq!(f.utilization_percent, Some(dec!(75)));
        assert_eq!(f.total_percent, Some(dec!(87.5)));
        assert_eq!(f.non_billable_hours, dec!(5));
        assert_eq!(figures(dec!(0), Tally::default()).utilization_percent, None);
    }

    #[test]
    fn totals_sum_people_and_capacity() {
        let week = (date(2026, 11, 16), date(2026, 11, 22));
        let r = report(
            week.0,
            week.1,
            vec![
                (
                    person("Rui", Role::Member, true),
                    Tally {
                        minutes: 1800,
                        billable_minutes: 1800,
                    },
                ),
                (
                    person("Ana", Role::Manager, true),
                    Tally {
                        minutes: 600,
                        billable_minutes: 0,
                    },
                ),
            ],
        );
        assert_eq!(r.people[0].name, "Ana");
        assert_eq!(r.totals.capacity_hours, dec!(80));
        assert_eq!(r.totals.total_hours, dec!(40));
        assert_eq!(r.totals.utilization_percent, Some(dec!(37.5)));
        assert!(counts(&person("Rui", Role::Contractor, true)));
        assert!(!counts(&person("Cu", Role::Client, true)));
        assert!(!counts(&person("Old", Role::Member, false)));
    }

    #[test]
    fn periods_are_checked() {
        assert_eq!(
            period(&params(Some("2026-11-16"), Some("2026-11-22"))).unwrap(),
            (date(2026, 11, 16), date(2026, 11, 22))
        );
        // A leap year is 366 days, inclusive of both ends.
        assert!(period(&params(Some("2028-01-01"), Some("2028-12-31"))).is_ok());
        assert_eq!(
            fields(period(&params(Some("2026-01-01"), Some("2027-01-02")))),
            ["query.to"]
        );
        assert_eq!(
            fields(period(&params(Some("2026-11-22"), Some("2026-11-16")))),
            ["query.to"]
        );
        assert_eq!(
            fields(period(&params(None, Some("2026-11-16")))),
            ["query.from"]
        );
        assert_eq!(
            fields(period(&params(Some("2026-13-01"), None))),
            ["query.from", "query.to"]
        );
    }
}
