//! The bodies that create and change drafts, and their checks. A body that
//! passes [`NewInvoice::check`] names nothing impossible; what the stored work
//! allows is decided by the operation.

use agencyops_domain::validate;
use agencyops_platform::error::Problems;
use agencyops_platform::ApiResult;
use agencyops_store::records::{ExpenseGrouping, InvoiceDetail, InvoiceKind, TimeGrouping};
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

/// Ids as every function spells them.
pub const ID: &str = r"^[A-Za-z0-9_-]{1,64}$";
/// A non-blank single line of text.
pub const TEXT: &str = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$";
/// A money amount of at most two decimals, as a string ("0" allowed).
pub const MONEY: &str = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$";
/// A positive money amount.
pub const POSITIVE_MONEY: &str =
    r"^(0|[1-9][0-9]{0,11})\.(0[1-9]|[1-9][0-9]?)$|^[1-9][0-9]{0,11}(\.[0-9]{1,2})?$";
/// Longest description of a line.
pub const MAX_DESCRIPTION: usize = 500;
/// Most manual lines one request adds.
pub const MAX_LINES: usize = 200;

/// A percentage from 0 to 100 with up to 4 decimals: a string or a number.
pub fn percent_schema() -> utoipa::openapi::schema::Object {
    agencyops_domain::quantity::schema(
        r"^([0-9]{1,2}(\.[0-9]{1,4})?|100(\.0{1,4})?)$",
        (0.0, 100.0),
        false,
        Some(4),
        false,
    )
}

/// A positive quantity with up to 4 decimals: a string or a number.
pub fn quantity_schema() -> utoipa::openapi::schema::Object {
    agencyops_domain::quantity::schema(
        r"^(0\.[0-9]{0,3}[1-9]|[1-9][0-9]{0,6}(\.[0-9]{1,4})?)$",
        (0.0, 10_000_000.0),
        true,
        Some(4),
        false,
    )
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodInput {
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date, example = "2026-11-01")]
    pub from: Option<Date>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date, example = "2026-11-30")]
    pub to: Option<Date>,
}

/// One manual line.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLine {
    #[schema(
        max_length = 500,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub description: String,
    /// A decimal string, or a JSON number (read exactly).
    #[serde(with = "agencyops_domain::quantity")]
    #[schema(schema_with = quantity_schema)]
    pub quantity: Decimal,
    /// In the client's currency, as a string.
    #[serde(with = "agencyops_domain::quantity::money")]
    #[schema(value_type = String, pattern = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$", example = "150.00")]
    pub unit_price: Decimal,
    /// One of the agency's tax rate codes; none: the client's rates apply.
    #[serde(default)]
    #[schema(pattern = r"^[A-Za-z0-9 ._%()-]{1,50}$")]
    pub tax_code: Option<String>,
}

/// A discount on the subtotal: a percent or an amount, not both.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscountInput {
    #[serde(default, with = "agencyops_domain::quantity::option")]
    #[schema(schema_with = percent_schema)]
    pub percent: Option<Decimal>,
    #[serde(default, with = "agencyops_domain::quantity::money_option")]
    #[schema(value_type = Option<String>, pattern = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$", example = "50.00")]
    pub amount: Option<Decimal>,
}

/// A fixed-fee line: the project's fee, or a percentage of it.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FixedFeeInput {
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub project_id: String,
    /// Share of the fee billed now (default 100).
    #[serde(default, with = "agencyops_domain::quantity::option")]
    #[schema(schema_with = percent_schema)]
    pub percent: Option<Decimal>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvoice {
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub client_id: String,
    pub kind: InvoiceKind,
    /// Projects billed (time and materials); all the client's when empty.
    #[serde(default)]
    #[schema(max_items = 50, value_type = Vec<String>)]
    pub project_ids: Vec<String>,
    /// Dates of the work billed (time and materials), inclusive.
    #[serde(default)]
    pub period: Option<PeriodInput>,
    /// Reached milestones billed (milestone invoices).
    #[serde(default)]
    #[schema(max_items = 50)]
    pub milestone_ids: Vec<String>,
    #[serde(default)]
    pub fixed_fee: Option<FixedFeeInput>,
    /// Manual lines, on any kind of invoice.
    #[serde(default)]
    #[schema(max_items = 200)]
    pub lines: Vec<NewLine>,
    #[serde(default)]
    pub discount: Option<DiscountInput>,
    #[serde(default)]
    #[schema(
        max_length = 64,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub po_number: Option<String>,
    /// Printed on the invoice.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
    /// For the agency only.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub internal_note: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub issue_date: Option<Date>,
    /// Default: the issue date plus the client's payment terms.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<Date>,
    /// Default: the client's preference.
    #[serde(default)]
    pub time_grouping: Option<TimeGrouping>,
    #[serde(default)]
    pub detail: Option<InvoiceDetail>,
    #[serde(default)]
    pub expense_grouping: Option<ExpenseGrouping>,
}

pub fn check_id(p: &mut Problems, field: String, id: &str) {
    p.check(field, validate::id(id));
}

pub fn check_text(p: &mut Problems, field: &str, text: Option<&str>, max: usize) {
    if let Some(t) = text {
        if t.chars().count() > max {
            p.add(field, format!("must be at most {max} characters"));
        }
    }
}

pub fn check_lines(p: &mut Problems, prefix: &str, lines: &[NewLine]) {
    if lines.len() > MAX_LINES {
        p.add(prefix, format!("at most {MAX_LINES} lines"));
    }
    for (i, l) in lines.iter().enumerate() {
        p.check(
            format!("{prefix}[{i}].description"),
            validate::name(&l.description, MAX_DESCRIPTION),
        );
        if l.quantity <= Decimal::ZERO
            || l.quantity.normalize().scale() > 4
            || l.quantity > Decimal::from(10_000_000)
        {
            p.add(
                format!("{prefix}[{i}].quantity"),
                "must be above 0 and below 10000000, with at most 4 decimals",
            );
        }
        if l.unit_price.is_sign_negative()
            || l.unit_price.normalize().scale() > 2
            || l.unit_price >= Decimal::from(1_000_000_000_000i64)
        {
            p.add(
                format!("{prefix}[{i}].unit_price"),
                "must be 0 or more, with at most 2 decimals",
            );
        }
    }
}

pub fn check_discount(p: &mut Problems, d: Option<&DiscountInput>) {
    let Some(d) = d else { return };
    match (d.percent, d.amount) {
        (Some(_), Some(_)) => p.add("discount", "give a percent or an amount, not both"),
        (None, None) => p.add("discount", "give a percent or an amount"),
        (Some(pc), None)
            if pc.is_sign_negative() || pc > Decimal::ONE_HUNDRED || pc.normalize().scale() > 4 =>
        {
            p.add("discount.percent", "must be 0 to 100")
        }
        (None, Some(a)) if a.is_sign_negative() || a.normalize().scale() > 2 => p.add(
            "discount.amount",
            "must be 0 or more, with at most 2 decimals",
        ),
        _ => {}
    }
}

impl NewInvoice {
    /// Everything that can be checked without reading the store.
    pub fn check(&self) -> ApiResult<()> {
        let mut p = Problems::new();
        check_id(&mut p, "client_id".into(), &self.client_id);
        if self.project_ids.len() > 50 {
            p.add("project_ids", "at most 50 projects");
        }
        for (i, id) in self.project_ids.iter().enumerate() {
            check_id(&mut p, format!("project_ids[{i}]"), id);
        }
        if self.milestone_ids.len() > 50 {
            p.add("milestone_ids", "at most 50 milestones");
        }
        for (i, id) in self.milestone_ids.iter().enumerate() {
            check_id(&mut p, format!("milestone_ids[{i}]"), id);
        }
        check_lines(&mut p, "lines", &self.lines);
        check_discount(&mut p, self.discount.as_ref());
        if let Some(f) = &self.fixed_fee {
            check_id(&mut p, "fixed_fee.project_id".into(), &f.project_id);
            if let Some(pc) = f.percent {
                if pc <= Decimal::ZERO || pc > Decimal::ONE_HUNDRED {
                    p.add("fixed_fee.percent", "must be above 0 and at most 100");
                }
            }
        }
        if let Some(po) = &self.po_number {
            p.check("po_number", validate::name(po, 64));
        }
        check_text(&mut p, "notes", self.notes.as_deref(), 2000);
        check_text(&mut p, "internal_note", self.internal_note.as_deref(), 2000);
        if let Some(PeriodInput {
            from: Some(f),
            to: Some(t),
        }) = &self.period
        {
            if f > t {
                p.add("period.to", "must not be before period.from");
            }
        }
        if let (Some(i), Some(d)) = (self.issue_date, self.due_date) {
            if d < i {
                p.add("due_date", "must not be before issue_date");
            }
        }
        match self.kind {
            InvoiceKind::FixedFee if self.fixed_fee.is_none() => {
                p.add("fixed_fee", "a fixed-fee invoice names its project's fee")
            }
            InvoiceKind::Milestone if self.milestone_ids.is_empty() => p.add(
                "milestone_ids",
                "a milestone invoice names at least one reached milestone",
            ),
            InvoiceKind::Manual if self.lines.is_empty() => {
                p.add("lines", "a manual invoice has at least one line")
            }
            _ => {}
        }
        if self.kind != InvoiceKind::FixedFee && self.fixed_fee.is_some() {
            p.add("fixed_fee", "only a fixed_fee invoice bills a fixed fee");
        }
        if self.kind != InvoiceKind::Milestone && !self.milestone_ids.is_empty() {
            p.add("milestone_ids", "only a milestone invoice bills milestones");
        }
        if self.kind != InvoiceKind::TimeAndMaterials && self.period.is_some() {
            p.add(
                "period",
                "only a time_and_materials invoice bills work of a period",
            );
        }
        p.finish()
    }
}
