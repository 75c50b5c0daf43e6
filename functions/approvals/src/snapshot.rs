//! What approving a time entry fixes for good: the bill rate that applied (by the
//! documented hierarchy), the cost rate, the billed minutes after the project's
//! per-entry rounding, and the value. Pure, so the rules are tested without a store;
//! later changes to rate cards, rounding or people never rewrite an approval.

use agencyops_domain::rates::{resolve_bill_rate, RateQuery};
use agencyops_domain::rounding::{entry_billed_minutes, TimeRounding};
use agencyops_domain::timesheet::value_of;
use agencyops_store::records::{Approval, Client, Person, Project, TimeEntry};
use jiff::Timestamp;
use rust_decimal::Decimal;

/// Everything that prices one person's work on one project.
pub struct Terms<'a> {
    pub project: &'a Project,
    /// None only if the client record is gone; its defaults then do not apply.
    pub client: Option<&'a Client>,
    /// None when the person has no record (their defaults then do not apply).
    pub person: Option<&'a Person>,
}

/// Who approves, when, and as part of which week job.
pub struct Approver<'a> {
    pub person: &'a str,
    pub at: Timestamp,
    pub job_id: &'a str,
}

impl Terms<'_> {
    /// The project's rounding, else the client's, else none.
    pub fn rounding(&self) -> Option<TimeRounding> {
        self.project
            .rounding
            .or_else(|| self.client.and_then(|c| c.rounding))
    }

    /// Minutes the client is billed for `raw` minutes: rounded here only when
    /// the rounding applies per entry (per-line rounding happens on the invoice).
    pub fn billed_minutes(&self, raw: u32) -> u32 {
        entry_billed_minutes(self.rounding(), raw)
    }
}

/// The approval snapshot of `entry`. Non-billable work keeps its minutes and
/// cost but carries no bill rate and no value. None only on arithmetic
/// overflow, which bounded rates and minutes make impossible in practice.
pub fn approval_for(entry: &TimeEntry, terms: &Terms<'_>, by: &Approver<'_>) -> Option<Approval> {
    let project = terms.project;
    let person = terms.person;
    // A person's default rate only prices work billed in the same currency.
    let person_default = person
        .and_then(|p| p.default_bill_rate)
        .filter(|m| m.currency == project.currency)
        .map(|m| m.amount);
    let query = RateQuery {
        person_id: &entry.person_id,
        job_role: person.and_then(|p| p.job_role.as_deref()),
        task_id: entry.task_id.as_deref(),
        client_default: terms.client.and_then(|c| c.default_rate),
        person_default,
    };
    let rate = if entry.billable {
        resolve_bill_rate(&project.rate_card, &query)
    } else {
        None
    };
    let billed_minutes = terms.billed_minutes(entry.minutes);
    let value = match rate {
        Some((r, _)) => value_of(billed_minutes, r)?,
        None => Decimal::ZERO,
    };
    let cost = person.and_then(|p| p.cost_rate);
    Some(Approval {
        approved_by: by.person.to_owned(),
        approved_at: by.at,
        bill_rate: rate.map(|(r, _)| r),
        rate_source: rate.map(|(_, s)| s),
        currency: project.currency,
        cost_rate: cost.map(|m| m.amount),
        cost_currency: cost.map(|m| m.currency),
        billed_minutes,
        value,
        job_id: Some(by.job_id.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use agencyops_domain::rates::{PersonRate, RateCard, RateSource, TaskRate};
    use agencyops_domain::rounding::{RoundingMode, RoundingScope};
    use agencyops_domain::timesheet::WorkStatus;
    use agencyops_domain::{Currency, Money, Role};
    use agencyops_store::records::{EntrySource, InvoicePreferences};
    use jiff::civil::date;
    use rust_decimal_macros::dec;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    fn project(card: RateCard, rounding: Option<TimeRounding>) -> Project {
        Project {
            rate_card: card,
            rounding,
            ..agencyops_apitest::fixtures::project()
        }
    }

    fn client(default_rate: Option<Decimal>, rounding: Option<TimeRounding>) -> Client {
        Client {
            id: "c".into(),
            name: "Northwind".into(),
            currency: eur(),
            payment_terms_days: 30,
            tax_rates: vec![],
            billing_email: None,
            default_rate,
            rounding,
            invoice_preferences: InvoicePreferences::default(),
            archived: false,
            version: 1,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn person(default_rate: Option<Money>) -> Person {
        Person {
            id: "ana".into(),
            name: "Ana".into(),
            email: "ana@studio.io".into(),
            role: Role::Member,
            job_role: Some("designer".into()),
            cost_rate: Some(Money {
                amount: dec!(30),
                currency: eur(),
            }),
            default_bill_rate: default_rate,
            weekly_capacity_hours: dec!(40),
            time_zone: "Europe/Lisbon".into(),
            client_id: None,
            active: true,
            version: 1,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn entry(minutes: u32, billable: bool, task: Option<&str>) -> TimeEntry {
        TimeEntry {
            id: "e".into(),
            person_id: "ana".into(),
            project_id: "p".into(),
            task_id: task.map(str::to_owned),
            date: date(2026, 11, 20),
            minutes,
            note: String::new(),
            billable,
            status: WorkStatus::Submitted,
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

    fn by() -> Approver<'static> {
        Approver {
            person: "boss",
            at: Timestamp::UNIX_EPOCH,
            job_id: "job",
        }
    }

    fn quarter_up(scope: RoundingScope) -> TimeRounding {
        TimeRounding {
            increment_minutes: 15,
            mode: RoundingMode::Up,
            scope,
        }
    }

    #[test]
    fn the_most_specific_rate_is_snapshotted_with_its_source() {
        let card = RateCard {
            default_rate: Some(dec!(100)),
            by_person: vec![PersonRate {
                person_id: "ana".into(),
                rate: dec!(150),
            }],
            by_task: vec![TaskRate {
                task_id: "t".into(),
                rate: dec!(110),
            }],
            ..Default::default()
        };
        let p = project(card, None);
        let c = client(Some(dec!(90)), None);
        let ana = person(None);
        let terms = Terms {
            project: &p,
            client: Some(&c),
            person: Some(&ana),
        };
        let a = approval_for(&entry(30, true, Some("t")), &terms, &by()).unwrap();
        assert_eq!(a.bill_rate, Some(dec!(150)));
        assert_eq!(a.rate_source, Some(RateSource::ProjectPerson));
        assert_eq!(a.value, dec!(75));
        assert_eq!(a.cost_rate, Some(dec!(30)));
        assert_eq!(a.cost_currency, Some(eur()));
        assert_eq!(a.job_id.as_deref(), Some("job"));
    }

    #[test]
    fn every_level_of_the_hierarchy_is_consulted_in_order() {
        use agencyops_domain::rates::RoleRate;
        let mut card = RateCard {
            default_rate: Some(dec!(100)),
            by_person: vec![PersonRate {
                person_id: "ana".into(),
                rate: dec!(150),
            }],
            by_role: vec![RoleRate {
                job_role: "Designer".into(),
                rate: dec!(120),
            }],
            by_task: vec![TaskRate {
                task_id: "t".into(),
                rate: dec!(110),
            }],
        };
        let ana = person(Some(Money {
            amount: dec!(80),
            currency: eur(),
        }));
        let c = client(Some(dec!(90)), None);
        let e = entry(60, true, Some("t"));
        let snap = |card: &RateCard, client: Option<&Client>| {
            let p = project(card.clone(), None);
            let terms = Terms {
                project: &p,
                client,
                person: Some(&ana),
            };
            let a = approval_for(&e, &terms, &by()).unwrap();
            (a.rate_source, a.bill_rate, a.value)
        };
        use RateSource::*;
        assert_eq!(
            snap(&card, Some(&c)),
            (Some(ProjectPerson), Some(dec!(150)), dec!(150))
        );
        card.by_person.clear();
        assert_eq!(
            snap(&card, Some(&c)),
            (Some(ProjectRole), Some(dec!(120)), dec!(120))
        );
        card.by_role.clear();
        assert_eq!(
            snap(&card, Some(&c)),
            (Some(ProjectTask), Some(dec!(110)), dec!(110))
        );
        card.by_task.clear();
        assert_eq!(
            snap(&card, Some(&c)),
            (Some(ProjectDefault), Some(dec!(100)), dec!(100))
        );
        card.default_rate = None;
        assert_eq!(
            snap(&card, Some(&c)),
            (Some(ClientDefault), Some(dec!(90)), dec!(90))
        );
        assert_eq!(
            snap(&card, None),
            (Some(PersonDefault), Some(dec!(80)), dec!(80))
        );
    }

    #[test]
    fn defaults_fall_back_from_client_to_person_in_the_projects_currency_only() {
        let p = project(RateCard::default(), None);
        let c = client(None, None);
        let usd = Money {
            amount: dec!(80),
            currency: Currency::parse("USD").unwrap(),
        };
        let ana = person(Some(usd));
        let terms = Terms {
            project: &p,
            client: Some(&c),
            person: Some(&ana),
        };
        let a = approval_for(&entry(60, true, None), &terms, &by()).unwrap();
        assert_eq!(a.bill_rate, None, "a USD default cannot price EUR work");
        assert_eq!(a.value, dec!(0));
        let ana = person(Some(Money {
            amount: dec!(80),
            currency: eur(),
        }));
        let terms = Terms {
            person: Some(&ana),
            ..terms
        };
        let a = approval_for(&entry(60, true, None), &terms, &by()).unwrap();
        assert_eq!(a.rate_source, Some(RateSource::PersonDefault));
        assert_eq!(a.value, dec!(80));
    }

    #[test]
    fn per_entry_rounding_bills_rounded_minutes_and_keeps_raw_ones() {
        let card = RateCard {
            default_rate: Some(dec!(100)),
            ..Default::default()
        };
        // The project's rounding beats the client's.
        let p = project(card.clone(), Some(quarter_up(RoundingScope::PerEntry)));
        let c = client(None, Some(quarter_up(RoundingScope::PerLine)));
        let terms = Terms {
            project: &p,
            client: Some(&c),
            person: None,
        };
        let e = entry(7, true, None);
        let a = approval_for(&e, &terms, &by()).unwrap();
        assert_eq!((e.minutes, a.billed_minutes), (7, 15));
        assert_eq!(a.value, dec!(25));
        // Per-line rounding leaves each entry raw; the invoice line rounds.
        let p = project(card, None);
        let terms = Terms {
            project: &p,
            client: Some(&c),
            person: None,
        };
        let a = approval_for(&e, &terms, &by()).unwrap();
        assert_eq!(a.billed_minutes, 7);
    }

    #[test]
    fn non_billable_work_has_no_rate_and_no_value() {
        let card = RateCard {
            default_rate: Some(dec!(100)),
            ..Default::default()
        };
        let p = project(card, None);
        let ana = person(None);
        let terms = Terms {
            project: &p,
            client: None,
            person: Some(&ana),
        };
        let a = approval_for(&entry(60, false, None), &terms, &by()).unwrap();
        assert_eq!((a.bill_rate, a.value), (None, dec!(0)));
        assert_eq!(a.cost_rate, Some(dec!(30)));
    }
}
