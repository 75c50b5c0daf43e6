//! `GET/PUT /v1/settings/invoicing`: number patterns, tax rates, rounding,
//! the agency's details printed on invoices. Read by staff; changed by admin
//! and finance. A pattern that could not number is refused when saved, not
//! when the next invoice is issued.

use agencyops_domain::invoice::TaxRateSpec;
use agencyops_domain::MoneyRounding;
use agencyops_platform::error::Problems;
use agencyops_platform::extract::IfMatch;

use agencyops_platform::{access, ApiError, ApiResult, Caller, Fails, Services, Tx};
use agencyops_store::audit::AuditAction;
use agencyops_store::keys;
use agencyops_store::record::load;
use agencyops_store::records::{AgencyDetails, InvoicingSettings};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::drafts::request::percent_schema;
use crate::numbers;

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxRateBody {
    /// What lines and clients refer to.
    #[schema(pattern = r"^[A-Za-z0-9 ._%()-]{1,50}$", example = "S20")]
    pub code: String,
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
        example = "VAT 20%"
    )]
    pub name: String,
    /// A decimal string, or a JSON number (read exactly).
    #[serde(with = "agencyops_domain::quantity")]
    #[schema(schema_with = percent_schema)]
    pub percent: Decimal,
    /// Xero's display name of the rate (its `*TaxType` column).
    #[serde(default)]
    #[schema(max_length = 100)]
    pub xero_tax_type: Option<String>,
    /// QuickBooks Online's tax code (its `*ItemTaxCode` column).
    #[serde(default)]
    #[schema(max_length = 100)]
    pub qbo_tax_code: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgencyBody {
    #[serde(default)]
    #[schema(max_length = 200)]
    pub name: String,
    #[serde(default)]
    #[schema(max_items = 4)]
    pub address_lines: Vec<String>,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub city: Option<String>,
    #[serde(default)]
    #[schema(max_length = 20)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[serde(default)]
    #[schema(pattern = r"^[A-Z]{2}$")]
    pub country_code: Option<String>,
    #[serde(default)]
    #[schema(max_length = 50)]
    pub tax_id: Option<String>,
    #[serde(default)]
    #[schema(max_length = 254)]
    pub email: Option<String>,
}

/// The settings as sent and as shown.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoicingSettingsBody {
    /// `{YYYY}`, `{YY}`, `{MM}` and one `{SEQ:n}`, e.g. `{YYYY}-{SEQ:4}` gives `2026-0001`.
    #[schema(max_length = 40, example = "{YYYY}-{SEQ:4}")]
    pub number_pattern: String,
    #[serde(default = "default_credit_pattern")]
    #[schema(max_length = 40, example = "CN-{YYYY}-{SEQ:4}")]
    pub credit_note_pattern: String,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub tax_rates: Vec<TaxRateBody>,
    #[serde(default)]
    pub rounding: MoneyRounding,
    #[serde(default)]
    pub agency: AgencyBody,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub payment_instructions: Option<String>,
    /// Ledger account of exported lines.
    #[serde(default = "default_account")]
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,20}$", example = "200")]
    pub account_code: String,
    /// The IANA time zone the agency bills in (recurring invoices start
    /// their periods on its calendar days).
    #[serde(default = "default_time_zone")]
    #[schema(
        max_length = 64,
        pattern = r"^[A-Za-z0-9_+/-]{1,64}$",
        example = "Europe/Berlin"
    )]
    pub time_zone: String,
}

fn default_credit_pattern() -> String {
    "CN-{YYYY}-{SEQ:4}".into()
}
fn default_account() -> String {
    "200".into()
}
fn default_time_zone() -> String {
    "UTC".into()
}

impl From<&InvoicingSettings> for InvoicingSettingsBody {
    fn from(s: &InvoicingSettings) -> Self {
        InvoicingSettingsBody {
            number_pattern: s.number_pattern.clone(),
            credit_note_pattern: s.credit_note_pattern.clone(),
            tax_rates: s
                .tax_rates
                .iter()
                .map(|r| TaxRateBody {
                    code: r.code.clone(),
                    name: r.name.clone(),
                    percent: r.percent,
                    xero_tax_type: r.xero_tax_type.clone(),
                    qbo_tax_code: r.qbo_tax_code.clone(),
                })
                .collect(),
            rounding: s.rounding,
            agency: AgencyBody {
                name: s.agency.name.clone(),
                address_lines: s.agency.address_lines.clone(),
                city: s.agency.city.clone(),
                postal_code: s.agency.postal_code.clone(),
                country_code: s.agency.country_code.clone(),
                tax_id: s.agency.tax_id.clone(),
                email: s.agency.email.clone(),
            },
            payment_instructions: s.payment_instructions.clone(),
            account_code: s.account_code.clone(),
            time_zone: s.time_zone.clone(),
        }
    }
}

pub async fn get(s: &Services, caller: &Caller) -> ApiResult<InvoicingSettings> {
    access::require_reads_reports(caller)?;
    Ok(
        load::<InvoicingSettings>(&*s.table, &keys::invoicing_settings(&caller.tenant))
            .await?
            .unwrap_or_else(|| InvoicingSettings::defaults(s.clock.now())),
    )
}

fn check(b: &InvoicingSettingsBody) -> ApiResult<()> {
    let mut p = Problems::new();
    numbers::pattern(&b.number_pattern, "number_pattern")?;
    numbers::pattern(&b.credit_note_pattern, "credit_note_pattern")?;
    if b.number_pattern == b.credit_note_pattern {
        p.add(
            "credit_note_pattern",
            "credit notes need their own series, apart from invoices",
        );
    }
    for (i, r) in b.tax_rates.iter().enumerate() {
        let code_ok = !r.code.trim().is_empty()
            && r.code.len() <= 50
            && r.code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " ._%()-".contains(c));
        if !code_ok {
            p.add(
                format!("tax_rates[{i}].code"),
                "1 to 50 letters, digits, spaces or . _ % ( ) -",
            );
        }
        if b.tax_rates[..i].iter().any(|o| o.code == r.code) {
            p.add(format!("tax_rates[{i}].code"), "appears twice");
        }
        p.check(
            format!("tax_rates[{i}].name"),
            agencyops_domain::validate::name(&r.name, 100),
        );
        if r.percent.is_sign_negative()
            || r.percent > Decimal::ONE_HUNDRED
            || r.percent.normalize().scale() > 4
        {
            p.add(
                format!("tax_rates[{i}].percent"),
                "must be 0 to 100, at most 4 decimals",
            );
        }
    }
    let long = |p: &mut Problems, field: String, text: Option<&str>, max: usize| {
        if text.is_some_and(|t| t.chars().count() > max) {
            p.add(field, format!("must be at most {max} characters"));
        }
    };
    for (i, r) in b.tax_rates.iter().enumerate() {
        long(
            &mut p,
            format!("tax_rates[{i}].xero_tax_type"),
            r.xero_tax_type.as_deref(),
            100,
        );
        long(
            &mut p,
            format!("tax_rates[{i}].qbo_tax_code"),
            r.qbo_tax_code.as_deref(),
            100,
        );
    }
    let a = &b.agency;
    long(&mut p, "agency.name".into(), Some(&a.name), 200);
    long(&mut p, "agency.city".into(), a.city.as_deref(), 100);
    long(
        &mut p,
        "agency.postal_code".into(),
        a.postal_code.as_deref(),
        20,
    );
    long(&mut p, "agency.tax_id".into(), a.tax_id.as_deref(), 50);
    long(&mut p, "agency.email".into(), a.email.as_deref(), 254);
    long(
        &mut p,
        "payment_instructions".into(),
        b.payment_instructions.as_deref(),
        2000,
    );
    long(&mut p, "number_pattern".into(), Some(&b.number_pattern), 40);
    long(
        &mut p,
        "credit_note_pattern".into(),
        Some(&b.credit_note_pattern),
        40,
    );
    if let Some(c) = &b.agency.country_code {
        if c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_uppercase()) {
            p.add(
                "agency.country_code",
                "an ISO 3166-1 alpha-2 code such as DE",
            );
        }
    }
    if b.agency.address_lines.len() > 4 {
        p.add("agency.address_lines", "at most 4 lines");
    }
    if !b
        .account_code
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        || b.account_code.is_empty()
        || b.account_code.len() > 20
    {
        p.add("account_code", "1 to 20 letters, digits or . _ -");
    }
    if b.time_zone.len() > 64 || jiff::tz::TimeZone::get(&b.time_zone).is_err() {
        p.add(
            "time_zone",
            "must be an IANA time zone name such as Europe/Berlin",
        );
    }
    p.finish()
}

pub async fn put(
    s: &Services,
    caller: &Caller,
    if_match: IfMatch,
    body: InvoicingSettingsBody,
) -> ApiResult<InvoicingSettings> {
    access::require_bills(caller)?;
    check(&body)?;
    let tenant = caller.tenant.as_str();
    let now = s.clock.now();
    let current = load::<InvoicingSettings>(&*s.table, &keys::invoicing_settings(tenant)).await?;
    let expected = current.as_ref().map(|c| c.version).unwrap_or(0);
    if let IfMatch(Some(v)) = if_match {
        if v != expected {
            return Err(ApiError::PreconditionFailed);
        }
    }
    let next = InvoicingSettings {
        id: "invoicing".into(),
        number_pattern: body.number_pattern,
        credit_note_pattern: body.credit_note_pattern,
        tax_rates: body
            .tax_rates
            .into_iter()
            .map(|r| TaxRateSpec {
                code: r.code,
                name: r.name.trim().to_owned(),
                percent: r.percent,
                xero_tax_type: r.xero_tax_type,
                qbo_tax_code: r.qbo_tax_code,
            })
            .collect(),
        rounding: body.rounding,
        agency: AgencyDetails {
            name: body.agency.name,
            address_lines: body.agency.address_lines,
            city: body.agency.city,
            postal_code: body.agency.postal_code,
            country_code: body.agency.country_code,
            tax_id: body.agency.tax_id,
            email: body.agency.email,
        },
        payment_instructions: body.payment_instructions,
        account_code: body.account_code,
        time_zone: body.time_zone,
        version: expected + 1,
        updated_at: now,
    };
    const RACED: &str = "the settings changed meanwhile; reload and retry";
    let mut tx = Tx::new(tenant)
        .contended(Fails::changed(RACED))
        .if_match(if_match.0.is_some());
    tx.save(&next, expected, Fails::stale(RACED))?;
    tx.audit(
        s,
        caller,
        AuditAction::Update,
        current.as_ref(),
        Some(&next),
        "invoicing",
    )?;
    tx.commit(s).await?;
    Ok(next)
}
