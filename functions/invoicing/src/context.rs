//! What every invoice operation reads first: the client, the tenant's
//! invoicing settings and the projects billed, in one batch read.

use std::collections::HashMap;

use agencyops_domain::invoice::TaxRateSpec;
use agencyops_platform::{ApiError, ApiResult, Services};
use agencyops_store::record::{all_up_to, from_item, is};
use agencyops_store::records::{Client, InvoicingSettings, Project, TaxRate};
use agencyops_store::{keys, Index, Key, Query};

/// Most projects one client's invoice reads.
const MAX_PROJECTS: usize = 500;

/// Serialisable so a draft's POST can hand it to the builder.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct BillingContext {
    pub client: Client,
    pub settings: InvoicingSettings,
    /// The projects named, or all the client's.
    pub projects: Vec<Project>,
    /// The tenant's rates plus any the client names that the tenant lacks.
    pub tax_rates: Vec<TaxRateSpec>,
    /// The client's rates as codes: applied to every line that names none.
    pub default_tax_codes: Vec<String>,
}

/// The client's tax rates as the tenant's codes: a client rate named like a
/// tenant rate's code or name is that rate; any other is used as the client
/// states it, under its own name as code.
pub fn resolve_tax_rates(
    client: &[TaxRate],
    tenant: &[TaxRateSpec],
) -> (Vec<TaxRateSpec>, Vec<String>) {
    let mut rates = tenant.to_vec();
    let mut codes = Vec::new();
    for r in client {
        let found = tenant
            .iter()
            .find(|t| t.code.eq_ignore_ascii_case(&r.name) || t.name.eq_ignore_ascii_case(&r.name));
        match found {
            Some(t) => codes.push(t.code.clone()),
            None => {
                rates.push(TaxRateSpec {
                    code: r.name.clone(),
                    name: r.name.clone(),
                    percent: r.percent,
                    xero_tax_type: None,
                    qbo_tax_code: None,
                });
                codes.push(r.name.clone());
            }
        }
    }
    codes.sort();
    codes.dedup();
    (rates, codes)
}

/// Loads the context of an invoice to `client_id` over `project_ids` (all the
/// client's projects when empty). Projects of another client are refused.
pub async fn load(
    s: &Services,
    tenant: &str,
    client_id: &str,
    project_ids: &[String],
) -> ApiResult<BillingContext> {
    let client_key = keys::client(tenant, client_id);
    let settings_key = keys::invoicing_settings(tenant);
    let mut wanted: Vec<Key> = vec![client_key.clone(), settings_key.clone()];
    wanted.extend(project_ids.iter().map(|p| keys::project(tenant, p)));
    let mut found: HashMap<Key, agencyops_store::Item> = s
        .table
        .batch_get(&wanted)
        .await?
        .into_iter()
        .filter_map(|i| Some((Key::of(&i)?, i)))
        .collect();
    let client: Client = match found.remove(&client_key) {
        Some(i) if is::<Client>(&i) => from_item(i)?,
        _ => return Err(ApiError::NotFound("client")),
    };
    let settings = match found.remove(&settings_key) {
        Some(i) if is::<InvoicingSettings>(&i) => from_item(i)?,
        _ => InvoicingSettings::defaults(s.clock.now()),
    };
    let projects = if project_ids.is_empty() {
        let q = Query::new(Index::Gsi2, keys::client_projects(tenant, client_id)).limit(200);
        all_up_to::<Project>(&*s.table, &q, MAX_PROJECTS).await?
    } else {
        let mut out = Vec::new();
        for (i, id) in project_ids.iter().enumerate() {
            let p: Project = match found.remove(&keys::project(tenant, id)) {
                Some(item) if is::<Project>(&item) => from_item(item)?,
                _ => {
                    return Err(ApiError::field(
                        format!("project_ids[{i}]"),
                        "no such project",
                    ))
                }
            };
            if p.client_id != client.id {
                return Err(ApiError::field(
                    format!("project_ids[{i}]"),
                    "is a project of another client",
                ));
            }
            out.push(p);
        }
        out
    };
    let (tax_rates, default_tax_codes) = resolve_tax_rates(&client.tax_rates, &settings.tax_rates);
    Ok(BillingContext {
        client,
        settings,
        projects,
        tax_rates,
        default_tax_codes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn a_client_rate_named_like_a_tenant_rate_is_that_rate() {
        let tenant = vec![TaxRateSpec {
            code: "S20".into(),
            name: "VAT 20%".into(),
            percent: dec!(20),
            xero_tax_type: Some("20% (VAT on Income)".into()),
            qbo_tax_code: Some("20.0% S".into()),
        }];
        let client = vec![
            TaxRate {
                name: "s20".into(),
                percent: dec!(20),
            },
            TaxRate {
                name: "City tax".into(),
                percent: dec!(1.5),
            },
        ];
        let (rates, codes) = resolve_tax_rates(&client, &tenant);
        assert_eq!(codes, ["City tax", "S20"]);
        assert_eq!(rates.len(), 2);
        assert_eq!(rates[1].percent, dec!(1.5));
    }
}
