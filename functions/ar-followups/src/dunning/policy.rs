//! `GET/PUT /v1/settings/dunning` and `GET/PUT /v1/clients/{id}/dunning`:
//! the reminder policy of the tenant and a client's override of it. Written
//! by admin and finance, read by the staff who run the agency. Saving one
//! asks the next daily run to place every open invoice again by the current
//! policy, so a change reaches invoices already issued.

use agencyops_platform::error::Problems;
use agencyops_platform::extract::IfMatch;
use agencyops_platform::{access, ApiError, ApiResult, Caller, Fails, Services, Tx};
use agencyops_store::audit::AuditAction;
use agencyops_store::record::{self, from_item, is, Record};
use agencyops_store::records::{
    DunningPolicy, DunningReindex, DunningStage, LateFee, StatutoryInterest,
};
use agencyops_store::{keys, Key};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::plan::{
    self, MAX_OFFSET_DAYS, MAX_QUIET_DAYS, MAX_REPEATS, MAX_REPEAT_EVERY_DAYS, MAX_STAGES,
    MIN_OFFSET_DAYS,
};

/// 2011/7/EU statutory interest: the reference rate plus 8 points a year
/// from the day after the due date, and EUR 40 once per EUR invoice.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatutoryBody {
    /// The central bank's reference rate in percent (e.g. the ECB's main
    /// refinancing rate of the half-year), 0 to 20, at most 4 decimals.
    #[serde(with = "agencyops_domain::quantity")]
    #[schema(schema_with = reference_rate_schema)]
    pub reference_rate: Decimal,
}

/// A reference rate: 0 to 20 percent, 4 decimals; a string or a number (read exactly).
fn reference_rate_schema() -> utoipa::openapi::schema::Object {
    agencyops_domain::quantity::schema(
        r"^([0-9]|1[0-9])(\.[0-9]{1,4})?$|^20(\.0{1,4})?$",
        (0.0, 20.0),
        false,
        Some(4),
        false,
    )
}

/// A percent of the balance: 0 to 100, 4 decimals; a string, a number or null.
fn fee_percent_schema() -> utoipa::openapi::schema::Object {
    agencyops_domain::quantity::schema(
        r"^([0-9]{1,2}(\.[0-9]{1,4})?|100(\.0{1,4})?)$",
        (0.0, 100.0),
        false,
        Some(4),
        true,
    )
}

/// A percent read exactly (string or number) or null; an empty string is
/// not a percent (the shared reader takes it for "none").
mod percent_field {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};
    use serde_json::Value;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => {
                Err(serde::de::Error::custom("must be a decimal such as 1.5"))
            }
            Some(v) => {
                agencyops_domain::quantity::option::deserialize(v).map_err(serde::de::Error::custom)
            }
        }
    }

    pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        rust_decimal::serde::str_option::serialize(value, s)
    }
}

/// A flat fee: a decimal string or null; an empty string is not an amount.
mod flat_field {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};
    use serde_json::Value;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => {
                Err(serde::de::Error::custom("must be an amount such as 15.00"))
            }
            Some(v) => agencyops_domain::quantity::money_option::deserialize(v)
                .map_err(serde::de::Error::custom),
        }
    }

    pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        rust_decimal::serde::str_option::serialize(value, s)
    }
}

/// What a stage charges when it fires: a flat amount in the invoice's
/// currency and/or a percent of the balance, and optionally statutory interest.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LateFeeBody {
    #[serde(default, with = "flat_field")]
    #[schema(value_type = Option<String>, pattern = r"^(0|[1-9][0-9]{0,5})(\.[0-9]{1,2})?$", example = "15.00")]
    pub flat: Option<Decimal>,
    #[serde(default, with = "percent_field")]
    #[schema(schema_with = fee_percent_schema)]
    pub percent: Option<Decimal>,
    #[serde(default)]
    pub statutory: Option<StatutoryBody>,
}

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageBody {
    /// Unique within the policy; names the stage's once-only marker.
    #[schema(
        pattern = r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,39}$",
        example = "first reminder"
    )]
    pub name: String,
    /// Days from the due date, -30 to 365 (negative: before it); strictly
    /// increasing from stage to stage.
    #[schema(minimum = -30, maximum = 365, example = 7)]
    pub offset_days: i32,
    /// Placeholders: {number}, {balance}, {due_date}, {client}, {days_overdue}.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        example = "Invoice {number} is {days_overdue} days overdue"
    )]
    pub subject: String,
    /// Lines may break; no other control characters.
    #[schema(
        min_length = 1,
        max_length = 5000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub body: String,
    #[serde(default)]
    pub late_fee: Option<LateFeeBody>,
}

/// A policy as sent.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DunningPolicyBody {
    #[schema(max_items = 10)]
    pub stages: Vec<StageBody>,
    /// After the last stage, repeat it every this many days (1 to 90) ...
    #[serde(default)]
    #[schema(minimum = 1, maximum = 90)]
    pub repeat_every_days: Option<u32>,
    /// ... at most this many times (0 to 24).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 24)]
    pub max_repeats: u32,
    /// No reminder within this many days (0 to 60) after an invoice was mailed by hand.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 60)]
    pub quiet_days_after_send: u32,
    #[serde(default)]
    pub paused: bool,
}

/// Where a policy shown for a client comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PolicySource {
    Tenant,
    Client,
}

/// A policy as shown: the body's fields, where it comes from and its version.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DunningPolicyView {
    pub stages: Vec<StageBody>,
    pub repeat_every_days: Option<u32>,
    pub max_repeats: u32,
    pub quiet_days_after_send: u32,
    pub paused: bool,
    /// `client` when the client has its own policy; `tenant` when it follows the agency's.
    pub source: PolicySource,
    pub version: u64,
}

impl DunningPolicyView {
    pub fn of(p: &DunningPolicy, source: PolicySource, version: u64) -> Self {
        DunningPolicyView {
            stages: p
                .stages
                .iter()
                .map(|s| StageBody {
                    name: s.name.clone(),
                    offset_days: s.offset_days,
                    subject: s.subject.clone(),
                    body: s.body.clone(),
                    late_fee: s.late_fee.as_ref().map(|f| LateFeeBody {
                        flat: f.flat,
                        percent: f.percent,
                        statutory: f.statutory.as_ref().map(|st| StatutoryBody {
                            reference_rate: st.reference_rate,
                        }),
                    }),
                })
                .collect(),
            repeat_every_days: p.repeat_every_days,
            max_repeats: p.max_repeats,
            quiet_days_after_send: p.quiet_days_after_send,
            paused: p.paused,
            source,
            version,
        }
    }
}

fn decimals(d: Decimal) -> u32 {
    d.normalize().scale()
}

/// Every rule of a policy, each problem named by its field.
fn check(b: &DunningPolicyBody) -> ApiResult<()> {
    let mut p = Problems::new();
    if b.stages.len() > MAX_STAGES {
        p.add("stages", format!("at most {MAX_STAGES} stages"));
    }
    for (i, s) in b.stages.iter().enumerate() {
        let f = |name: &str| format!("stages[{i}].{name}");
        let name_ok = !s.name.is_empty()
            && s.name.chars().count() <= 40
            && s.name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " _-".contains(c));
        if !name_ok {
            p.add(
                f("name"),
                "1 to 40 letters, digits, spaces, _ or -, starting with a letter or digit",
            );
        }
        if b.stages[..i].iter().any(|o| o.name == s.name) {
            p.add(f("name"), "appears twice; stage names are unique");
        }
        if !(MIN_OFFSET_DAYS..=MAX_OFFSET_DAYS).contains(&s.offset_days) {
            p.add(
                f("offset_days"),
                format!("must be {MIN_OFFSET_DAYS} to {MAX_OFFSET_DAYS}"),
            );
        }
        if i > 0 && s.offset_days <= b.stages[i - 1].offset_days {
            p.add(f("offset_days"), "must be after the previous stage's");
        }
        for (field, text, max) in [("subject", &s.subject, 200), ("body", &s.body, 5000)] {
            if text.trim().is_empty() || text.chars().count() > max {
                p.add(f(field), format!("1 to {max} characters"));
            } else if text
                .chars()
                .any(|c| c.is_control() && (field == "subject" || !matches!(c, '\n' | '\r' | '\t')))
            {
                p.add(f(field), "contains control characters");
            } else if let Err(why) = plan::template_names(text) {
                p.add(f(field), why);
            }
        }
        if let Some(fee) = &s.late_fee {
            if let Some(flat) = fee.flat {
                if flat.is_sign_negative() || flat > Decimal::from(999_999) || decimals(flat) > 2 {
                    p.add(f("late_fee.flat"), "0 to 999999, at most 2 decimals");
                }
            }
            if let Some(pc) = fee.percent {
                if pc.is_sign_negative() || pc > Decimal::ONE_HUNDRED || decimals(pc) > 4 {
                    p.add(f("late_fee.percent"), "0 to 100, at most 4 decimals");
                }
            }
            if let Some(st) = &fee.statutory {
                let r = st.reference_rate;
                if r.is_sign_negative() || r > Decimal::from(20) || decimals(r) > 4 {
                    p.add(
                        f("late_fee.statutory.reference_rate"),
                        "0 to 20 percent, at most 4 decimals",
                    );
                }
            }
            if fee.flat.is_none() && fee.percent.is_none() && fee.statutory.is_none() {
                p.add(
                    f("late_fee"),
                    "name flat, percent or statutory, or leave the fee out",
                );
            }
        }
    }
    if let Some(every) = b.repeat_every_days {
        if !(1..=MAX_REPEAT_EVERY_DAYS).contains(&every) {
            p.add("repeat_every_days", format!("1 to {MAX_REPEAT_EVERY_DAYS}"));
        }
    }
    if b.max_repeats > MAX_REPEATS {
        p.add("max_repeats", format!("at most {MAX_REPEATS}"));
    }
    if b.max_repeats > 0 && b.repeat_every_days.is_none() {
        p.add("repeat_every_days", "repeats need an interval");
    }
    if b.max_repeats > 0 && b.stages.is_empty() {
        p.add(
            "max_repeats",
            "repeats follow the last stage; there is none",
        );
    }
    if b.quiet_days_after_send > MAX_QUIET_DAYS {
        p.add("quiet_days_after_send", format!("at most {MAX_QUIET_DAYS}"));
    }
    p.finish()
}

fn stages(b: DunningPolicyBody) -> Vec<DunningStage> {
    b.stages
        .into_iter()
        .map(|s| DunningStage {
            name: s.name,
            offset_days: s.offset_days,
            subject: s.subject,
            body: s.body,
            late_fee: s.late_fee.map(|f| LateFee {
                flat: f.flat,
                percent: f.percent,
                statutory: f.statutory.map(|st| StatutoryInterest {
                    reference_rate: st.reference_rate,
                }),
            }),
        })
        .collect()
}

/// The tenant's policy (a never-saved one sends nothing).
pub async fn tenant_policy(s: &Services, tenant: &str) -> ApiResult<DunningPolicy> {
    Ok(
        record::load::<DunningPolicy>(&*s.table, &keys::dunning_policy(tenant))
            .await?
            .unwrap_or_else(|| DunningPolicy::none(s.clock.now())),
    )
}

pub async fn get_tenant(s: &Services, caller: &Caller) -> ApiResult<DunningPolicyView> {
    access::require_reads_reports(caller)?;
    let p = tenant_policy(s, &caller.tenant).await?;
    Ok(DunningPolicyView::of(&p, PolicySource::Tenant, p.version))
}

/// A client's policy as it applies: its override, or the tenant's; the
/// version is the override's (0: none yet), the one a PUT must name.
pub async fn get_client(
    s: &Services,
    caller: &Caller,
    client: &str,
) -> ApiResult<DunningPolicyView> {
    access::require_reads_reports(caller)?;
    access::visible_client(s, caller, client).await?;
    match record::load::<DunningPolicy>(
        &*s.table,
        &keys::client_dunning_policy(&caller.tenant, client),
    )
    .await?
    {
        Some(p) => Ok(DunningPolicyView::of(&p, PolicySource::Client, p.version)),
        None => {
            let p = tenant_policy(s, &caller.tenant).await?;
            Ok(DunningPolicyView::of(&p, PolicySource::Tenant, 0))
        }
    }
}

pub async fn put_tenant(
    s: &Services,
    caller: &Caller,
    if_match: IfMatch,
    body: DunningPolicyBody,
) -> ApiResult<DunningPolicyView> {
    access::require_bills(caller)?;
    check(&body)?;
    let p = save(s, caller, if_match, None, body).await?;
    Ok(DunningPolicyView::of(&p, PolicySource::Tenant, p.version))
}

pub async fn put_client(
    s: &Services,
    caller: &Caller,
    if_match: IfMatch,
    client: &str,
    body: DunningPolicyBody,
) -> ApiResult<DunningPolicyView> {
    access::require_bills(caller)?;
    access::visible_client(s, caller, client).await?;
    check(&body)?;
    let p = save(s, caller, if_match, Some(client.to_owned()), body).await?;
    Ok(DunningPolicyView::of(&p, PolicySource::Client, p.version))
}

/// One read (the stored policy and the re-index request) and one
/// transaction (policy under its version, the re-index request under its
/// own, the audit).
async fn save(
    s: &Services,
    caller: &Caller,
    if_match: IfMatch,
    client_id: Option<String>,
    body: DunningPolicyBody,
) -> ApiResult<DunningPolicy> {
    let tenant = caller.tenant.as_str();
    let now = s.clock.now();
    let mut next = DunningPolicy {
        id: client_id.clone().unwrap_or_else(|| "dunning".into()),
        client_id,
        repeat_every_days: body.repeat_every_days,
        max_repeats: body.max_repeats,
        quiet_days_after_send: body.quiet_days_after_send,
        paused: body.paused,
        stages: stages(body),
        version: 0,
        updated_at: now,
    };
    let policy_key = next.key(tenant);
    let reindex_key = keys::dunning_reindex(tenant);
    let found = s
        .table
        .batch_get(&[policy_key.clone(), reindex_key.clone()])
        .await?;
    let pick = |k: &Key| {
        found
            .iter()
            .find(|i| Key::of(i).as_ref() == Some(k))
            .cloned()
    };
    let current: Option<DunningPolicy> = match pick(&policy_key) {
        Some(i) if is::<DunningPolicy>(&i) => Some(from_item(i)?),
        _ => None,
    };
    let mut reindex: DunningReindex = match pick(&reindex_key) {
        Some(i) if is::<DunningReindex>(&i) => from_item(i)?,
        _ => DunningReindex {
            id: "dunning_reindex".into(),
            requested: 0,
            done: 0,
            version: 0,
            updated_at: now,
        },
    };
    let expected = current.as_ref().map(|c| c.version).unwrap_or(0);
    if let IfMatch(Some(v)) = if_match {
        if v != expected {
            return Err(ApiError::PreconditionFailed);
        }
    }
    next.version = expected;
    record::bump(&mut next, now);
    reindex.requested += 1;
    let reindex_expected = record::bump(&mut reindex, now);
    const RACED: &str = "the dunning policy changed meanwhile; reload and retry";
    let mut tx = Tx::new(tenant)
        .contended(Fails::changed(RACED))
        .if_match(if_match.0.is_some());
    tx.save(&next, expected, Fails::stale(RACED))?;
    tx.save(&reindex, reindex_expected, Fails::changed(RACED))?;
    tx.audit(
        s,
        caller,
        AuditAction::Update,
        current.as_ref(),
        Some(&next),
        &next.id,
    )?;
    tx.commit(s).await?;
    Ok(next)
}
