//! Which bill rate applies to a piece of work. Most specific wins:
//! project+person, project+role, project+task, project default, client default,
//! person default. The source is kept so an invoice line can say why.

use crate::validate::Invalid;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateCard {
    /// The project's default hourly rate, in the client's currency.
    #[schema(value_type = Option<String>, pattern = r"^$|^(1000000(\.0{1,4})?|[0-9]{1,6}(\.[0-9]{1,4})?)$")]
    #[serde(default, with = "crate::quantity::money_option")]
    pub default_rate: Option<Decimal>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub by_person: Vec<PersonRate>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub by_role: Vec<RoleRate>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub by_task: Vec<TaskRate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonRate {
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub person_id: String,
    #[schema(value_type = String, pattern = r"^(1000000(\.0{1,4})?|[0-9]{1,6}(\.[0-9]{1,4})?)$")]
    #[serde(with = "crate::quantity::money")]
    pub rate: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRate {
    /// The person's job role, e.g. "designer".
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub job_role: String,
    #[schema(value_type = String, pattern = r"^(1000000(\.0{1,4})?|[0-9]{1,6}(\.[0-9]{1,4})?)$")]
    #[serde(with = "crate::quantity::money")]
    pub rate: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskRate {
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub task_id: String,
    #[schema(value_type = String, pattern = r"^(1000000(\.0{1,4})?|[0-9]{1,6}(\.[0-9]{1,4})?)$")]
    #[serde(with = "crate::quantity::money")]
    pub rate: Decimal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RateSource {
    ProjectPerson,
    ProjectRole,
    ProjectTask,
    ProjectDefault,
    ClientDefault,
    PersonDefault,
}

/// What is known about the work whose rate is wanted.
#[derive(Clone, Copy, Debug, Default)]
pub struct RateQuery<'a> {
    pub person_id: &'a str,
    pub job_role: Option<&'a str>,
    pub task_id: Option<&'a str>,
    pub client_default: Option<Decimal>,
    pub person_default: Option<Decimal>,
}

pub fn resolve_bill_rate(card: &RateCard, q: &RateQuery<'_>) -> Option<(Decimal, RateSource)> {
    let person = card
        .by_person
        .iter()
        .find(|r| r.person_id == q.person_id)
        .map(|r| (r.rate, RateSource::ProjectPerson));
    let role = || {
        q.job_role.and_then(|role| {
            card.by_role
                .iter()
                .find(|r| r.job_role.eq_ignore_ascii_case(role))
                .map(|r| (r.rate, RateSource::ProjectRole))
        })
    };
    let task = || {
        q.task_id.and_then(|task| {
            card.by_task
                .iter()
                .find(|r| r.task_id == task)
                .map(|r| (r.rate, RateSource::ProjectTask))
        })
    };
    person
        .or_else(role)
        .or_else(task)
        .or_else(|| card.default_rate.map(|r| (r, RateSource::ProjectDefault)))
        .or_else(|| q.client_default.map(|r| (r, RateSource::ClientDefault)))
        .or_else(|| q.person_default.map(|r| (r, RateSource::PersonDefault)))
}

/// Entries one list of a rate card may hold.
pub const MAX_RATE_ENTRIES: usize = 100;

impl RateCard {
    /// Field problems, with paths relative to the rate card. Two rates for the
    /// same person, role or task would make the bill depend on list order.
    pub fn problems(&self) -> Vec<(String, Invalid)> {
        let mut out = Vec::new();
        let lists: [(&str, Vec<String>); 3] = [
            (
                "by_person",
                self.by_person.iter().map(|r| r.person_id.clone()).collect(),
            ),
            (
                "by_role",
                self.by_role
                    .iter()
                    .map(|r| r.job_role.to_lowercase())
                    .collect(),
            ),
            (
                "by_task",
                self.by_task.iter().map(|r| r.task_id.clone()).collect(),
            ),
        ];
        for (name, keys) in &lists {
            if keys.len() > MAX_RATE_ENTRIES {
                out.push((
                    (*name).into(),
                    Invalid::TooManyEntries {
                        max: MAX_RATE_ENTRIES,
                    },
                ));
                return out;
            }
            for (i, k) in keys.iter().enumerate() {
                if keys[..i].contains(k) {
                    out.push((format!("{name}[{i}]"), Invalid::RepeatsEarlierEntry));
                }
            }
        }
        for (i, r) in self.by_person.iter().enumerate() {
            if let Err(m) = crate::validate::id(&r.person_id) {
                out.push((format!("by_person[{i}].person_id"), m));
            }
        }
        for (i, r) in self.by_task.iter().enumerate() {
            if let Err(m) = crate::validate::id(&r.task_id) {
                out.push((format!("by_task[{i}].task_id"), m));
            }
        }
        for (i, r) in self.by_role.iter().enumerate() {
            if let Err(m) = crate::validate::name(&r.job_role, 100) {
                out.push((format!("by_role[{i}].job_role"), m));
            }
        }
        let mut check = |path: String, rate: &Decimal| {
            if let Err(m) = crate::validate::rate(rate) {
                out.push((path, m));
            }
        };
        if let Some(r) = &self.default_rate {
            check("default_rate".into(), r);
        }
        for (i, r) in self.by_person.iter().enumerate() {
            check(format!("by_person[{i}].rate"), &r.rate);
        }
        for (i, r) in self.by_role.iter().enumerate() {
            check(format!("by_role[{i}].rate"), &r.rate);
        }
        for (i, r) in self.by_task.iter().enumerate() {
            check(format!("by_task[{i}].rate"), &r.rate);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn card() -> RateCard {
        RateCard {
            default_rate: Some(dec!(100)),
            by_person: vec![PersonRate {
                person_id: "ana".into(),
                rate: dec!(150),
            }],
            by_role: vec![RoleRate {
                job_role: "designer".into(),
                rate: dec!(120),
            }],
            by_task: vec![TaskRate {
                task_id: "t1".into(),
                rate: dec!(110),
            }],
        }
    }

    #[test]
    fn most_specific_rate_wins() {
        let c = card();
        let q = RateQuery {
            person_id: "ana",
            job_role: Some("designer"),
            task_id: Some("t1"),
            ..Default::default()
        };
        assert_eq!(
            resolve_bill_rate(&c, &q),
            Some((dec!(150), RateSource::ProjectPerson))
        );
        let q = RateQuery {
            person_id: "bo",
            job_role: Some("Designer"),
            task_id: Some("t1"),
            ..Default::default()
        };
        assert_eq!(
            resolve_bill_rate(&c, &q),
            Some((dec!(120), RateSource::ProjectRole))
        );
        let q = RateQuery {
            person_id: "bo",
            job_role: Some("dev"),
            task_id: Some("t1"),
            ..Default::default()
        };
        assert_eq!(
            resolve_bill_rate(&c, &q),
            Some((dec!(110), RateSource::ProjectTask))
        );
        let q = RateQuery {
            person_id: "bo",
            ..Default::default()
        };
        assert_eq!(
            resolve_bill_rate(&c, &q),
            Some((dec!(100), RateSource::ProjectDefault))
        );
    }

    #[test]
    fn falls_back_to_client_then_person_default() {
        let empty = RateCard::default();
        let q = RateQuery {
            person_id: "bo",
            client_default: Some(dec!(90)),
            person_default: Some(dec!(80)),
            ..Default::default()
        };
        assert_eq!(
            resolve_bill_rate(&empty, &q),
            Some((dec!(90), RateSource::ClientDefault))
        );
        let q = RateQuery {
            person_id: "bo",
            person_default: Some(dec!(80)),
            ..Default::default()
        };
        assert_eq!(
            resolve_bill_rate(&empty, &q),
            Some((dec!(80), RateSource::PersonDefault))
        );
        assert_eq!(resolve_bill_rate(&empty, &RateQuery::default()), None);
    }
}
