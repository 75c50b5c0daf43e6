//! Clients' and contacts' field rules, without storage.

use agencyops_domain::rounding::TimeRounding;
use agencyops_domain::validate;
use agencyops_platform::error::Problems;
use agencyops_platform::ApiResult;
use agencyops_store::records::{InvoicePreferences, TaxRate};
use rust_decimal::Decimal;

/// Invoices carry at most this many tax rates (Invoice Ninja's three).
pub const MAX_TAX_RATES: usize = 3;

/// The client fields a create or a patch sets, for one set of checks.
pub struct Fields<'a> {
    pub name: Option<&'a str>,
    pub terms: Option<u32>,
    pub taxes: Option<&'a [TaxRate]>,
    pub email: Option<&'a str>,
    pub rate: Option<&'a Decimal>,
    pub rounding: Option<&'a TimeRounding>,
    pub prefs: Option<&'a InvoicePreferences>,
}

impl Fields<'_> {
    pub fn check(&self) -> ApiResult<()> {
        let mut p = Problems::new();
        if let Some(n) = self.name {
            p.check("name", validate::name(n, 200));
        }
        if self.terms.is_some_and(|t| t > 365) {
            p.add("payment_terms_days", "must be 0 to 365");
        }
        if let Some(taxes) = self.taxes {
            if taxes.len() > MAX_TAX_RATES {
                p.add("tax_rates", format!("at most {MAX_TAX_RATES} tax rates"));
            }
            for (i, t) in taxes.iter().enumerate() {
                p.check(format!("tax_rates[{i}].name"), validate::name(&t.name, 50));
                if t.percent < Decimal::ZERO
                    || t.percent > Decimal::from(100)
                    || t.percent.normalize().scale() > 3
                {
                    p.add(
                        format!("tax_rates[{i}].percent"),
                        "must be 0 to 100 with at most 3 decimals",
                    );
                }
            }
        }
        if let Some(e) = self.email {
            p.check("billing_email", validate::email(e));
        }
        if let Some(r) = self.rate {
            p.check("default_rate", validate::rate(r));
        }
        if let Some(r) = self.rounding {
            p.check("rounding.increment_minutes", r.validate());
        }
        if let Some(po) = self.prefs.and_then(|p| p.po_number.as_deref()) {
            p.check("invoice_preferences.po_number", validate::name(po, 64));
        }
        if self
            .prefs
            .and_then(|p| p.notes.as_deref())
            .is_some_and(|n| n.chars().count() > 2000)
        {
            p.add(
                "invoice_preferences.notes",
                "must be at most 2000 characters",
            );
        }
        p.finish()
    }
}

/// A contact's fields, whichever of them a create or a patch sets.
pub fn check_contact(
    p: &mut Problems,
    name: Option<&str>,
    email: Option<&str>,
    phone: Option<&str>,
    title: Option<&str>,
) {
    if let Some(n) = name {
        p.check("name", validate::name(n, 200));
    }
    if let Some(e) = email {
        p.check("email", validate::email(e));
    }
    if let Some(ph) = phone {
        if ph.len() > 40
            || !ph
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        {
            p.add(
                "phone",
                "must be digits, spaces and + - ( ) . only, at most 40",
            );
        }
    }
    if let Some(t) = title {
        p.check("title", validate::name(t, 100));
    }
}
