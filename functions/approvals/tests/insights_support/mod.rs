//! Approved work written straight into the store, the way approval leaves it,
//! so the read-only views can be tested without the approval endpoints.

#![allow(dead_code)]

use agencyops_apitest::{App, NOW};
use agencyops_domain::budget::Measure;
use agencyops_domain::timesheet::{value_of, with_markup, WorkStatus};
use agencyops_domain::Currency;
use agencyops_platform::resource::new_id;
use agencyops_store::record::{self, Record};
use agencyops_store::records::{
    Approval, BudgetAlert, EntrySource, Expense, ExpenseApproval, ProjectBurn, TimeEntry,
};
use jiff::civil::Date;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::Value;

pub fn now() -> Timestamp {
    Timestamp::from_second(NOW).unwrap()
}

pub fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

pub fn day(s: &str) -> Date {
    s.parse().unwrap()
}

/// A decimal from a JSON string field, so comparisons ignore trailing zeros.
pub fn dec_of(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("not a decimal string: {v}"))
        .parse()
        .unwrap_or_else(|e| panic!("{v}: {e}"))
}

pub async fn store<R: Record>(app: &App, tenant: &str, rec: &R) {
    app.table
        .transact(vec![record::create(tenant, rec).unwrap()])
        .await
        .unwrap();
}

/// A time entry as recorded, in `status`, not yet approved.
pub fn entry(
    person: &str,
    project: &str,
    date: &str,
    minutes: u32,
    billable: bool,
    status: WorkStatus,
) -> TimeEntry {
    TimeEntry {
        id: new_id(),
        person_id: person.into(),
        project_id: project.into(),
        task_id: None,
        date: day(date),
        minutes,
        note: "work".into(),
        billable,
        status,
        source: EntrySource::Manual,
        approval: None,
        rejection: None,
        invoice_id: None,
        recorded_by: None,
        changed_by: None,
        version: 1,
        created_at: now(),
        updated_at: now(),
    }
}

/// The entry approved at `rate` per hour in `currency`, billing its raw minutes.
pub fn approve(mut e: TimeEntry, rate: Decimal, currency: Currency) -> TimeEntry {
    e.status = WorkStatus::Approved;
    e.approval = Some(Approval {
        approved_by: "boss".into(),
        approved_at: now(),
        bill_rate: e.billable.then_some(rate),
        rate_source: None,
        currency,
        cost_rate: None,
        cost_currency: None,
        billed_minutes: e.minutes,
        value: if e.billable {
            value_of(e.minutes, rate).unwrap()
        } else {
            Decimal::ZERO
        },
        job_id: None,
    });
    e
}

/// The approved entry, put on an invoice.
pub fn invoiced(mut e: TimeEntry) -> TimeEntry {
    e.status = WorkStatus::Invoiced;
    e.invoice_id = Some(new_id());
    e
}

/// An approved expense of `amount` EUR with `markup` percent re-billed.
pub fn approved_expense(
    person: &str,
    project: &str,
    date: &str,
    amount: Decimal,
    markup: Option<Decimal>,
    billable: bool,
) -> Expense {
    Expense {
        id: new_id(),
        person_id: person.into(),
        project_id: project.into(),
        date: day(date),
        amount,
        currency: eur(),
        category: "travel".into(),
        note: "train".into(),
        billable,
        markup_percent: markup,
        status: WorkStatus::Approved,
        approval: Some(ExpenseApproval {
            approved_by: "boss".into(),
            approved_at: now(),
            approver_made_or_changed: false,
            billed_amount: with_markup(amount, markup).unwrap(),
        }),
        rejection: None,
        invoice_id: None,
        receipt: None,
        recorded_by: None,
        changed_by: None,
        version: 1,
        created_at: now(),
        updated_at: now(),
    }
}

pub fn alert(measure: Measure, threshold: u32, at: i64, percent: Decimal) -> BudgetAlert {
    BudgetAlert {
        measure,
        threshold_percent: threshold,
        raised_at: Timestamp::from_second(at).unwrap(),
        percent_used: percent,
    }
}

pub fn burn(
    project: &str,
    minutes: u64,
    billable_minutes: u64,
    fees: Decimal,
    cost: Decimal,
    alerts: Vec<BudgetAlert>,
) -> ProjectBurn {
    ProjectBurn {
        id: project.into(),
        minutes,
        billable_minutes,
        fees,
        cost,
        currency: eur(),
        alerts,
        changes_applied: 3,
        version: 3,
        updated_at: now(),
    }
}

/// Intake and approvals over one store: the views read what approval wrote.
pub fn app() -> App {
    App::new(agencyops_intake::routes().merge(agencyops_approvals::routes()))
}

/// `exact` rounded as the reports round money.
pub fn half_up(exact: Decimal) -> Decimal {
    agencyops_domain::Money::rounded(exact, eur(), agencyops_domain::MoneyRounding::HalfUp).amount
}

/// The `field` of every row of a JSON array.
pub fn ids(v: &Value, field: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r[field].as_str().unwrap_or("").to_owned())
        .collect()
}

/// The utilization report of the test clock's week.
pub const WEEK: &str = "/v1/reports/utilization?from=2026-11-16&to=2026-11-22";
