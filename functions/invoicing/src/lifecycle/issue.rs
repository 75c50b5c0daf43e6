//! `POST /v1/invoices/{id}/issue`: the draft gets the next number of the
//! tenant's series and its due date, and its document is kept as issued.
//! One batch read (invoice, settings, the likely counters) and one
//! transaction (invoice under its version, counter under its value, audit).

use std::collections::HashMap;

use agencyops_domain::invoice::InvoiceStatus;
use agencyops_platform::resource::audit;
use agencyops_platform::{access, ApiError, ApiResult, Caller, Conflict, Services, Tx, TxError};
use agencyops_store::audit::AuditAction;
use agencyops_store::record::{from_item, is};
use agencyops_store::records::{Invoice, InvoiceDetail, InvoicingSettings, NumberCounter};
use agencyops_store::{keys, record, Item, Key};
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::documents::store as docs;
use crate::numbers::{self, ATTEMPTS};
use crate::view::InvoiceParts;

fn take<R: agencyops_store::record::Record>(
    found: &mut HashMap<Key, Item>,
    key: &Key,
) -> ApiResult<Option<R>> {
    match found.remove(key) {
        Some(i) if is::<R>(&i) => Ok(Some(from_item(i)?)),
        _ => Ok(None),
    }
}

pub async fn issue(s: &Services, caller: &Caller, id: &str) -> ApiResult<Invoice> {
    Ok(issue_with_parts(s, caller, id).await?.0)
}

/// Issues the draft; with it, when this call issued it, what its view shows
/// (a draft has no payments or credits; its claim batches only matter when
/// detailed, and then they were read to render it), so the answer needs no
/// second read. An invoice issued before comes back without them.
pub async fn issue_with_parts(
    s: &Services,
    caller: &Caller,
    id: &str,
) -> ApiResult<(Invoice, Option<InvoiceParts>)> {
    access::require_bills(caller)?;
    let tenant = caller.tenant.as_str();
    let inv_key = keys::invoice(tenant, id);
    let settings_key = keys::invoicing_settings(tenant);
    let today = s.clock.now().to_zoned(TimeZone::UTC).date();
    for _ in 0..ATTEMPTS {
        // The counter's series depends on the issue date and the pattern; read
        // both candidates for the usual date (a yearly and an all-time series).
        let year = format!("{:04}", today.year());
        let guesses = [
            keys::invoice_counter(tenant, &year),
            keys::invoice_counter(tenant, "ALL"),
        ];
        let mut wanted = vec![inv_key.clone(), settings_key.clone()];

        wanted.extend(guesses.iter().cloned());
        let mut found: HashMap<Key, Item> = s
            .table
            .batch_get(&wanted)
            .await?
            .into_iter()
            .filter_map(|i| Some((Key::of(&i)?, i)))
            .collect();
        let inv: Invoice = take(&mut found, &inv_key)?.ok_or(ApiError::NotFound("invoice"))?;
        match inv.status {
            InvoiceStatus::Draft => {}
            InvoiceStatus::Building => {
                // Asked again, in case the builder's message was lost with a
                // crash between writing the draft and announcing it.
                crate::drafts::build::announce(s, tenant, &inv.id).await?;
                return Err(Conflict::StillBuilding.into());
            }
            // Issuing twice is the same issue.
            _ if inv.number.is_some() => return Ok((inv, None)),
            _ => return Err(Conflict::NotADraft("only a draft can be issued".into()).into()),
        }
        let settings: InvoicingSettings = take(&mut found, &settings_key)?
            .unwrap_or_else(|| InvoicingSettings::defaults(s.clock.now()));
        let pattern = numbers::pattern(&settings.number_pattern, "number_pattern")?;
        let date: Date = inv.issue_date.unwrap_or(today);
        let counter_key = keys::invoice_counter(tenant, &pattern.series(date));
        let counter: Option<NumberCounter> = if guesses.contains(&counter_key) {
            take(&mut found, &counter_key)?
        } else {
            record::load(&*s.table, &counter_key).await?
        };
        let now = s.clock.now();
        let drawn = numbers::draw(tenant, &counter_key, counter, &pattern, date, now)?;
        let mut next = inv.clone();
        next.status = InvoiceStatus::Issued;
        next.number = Some(drawn.number.clone());
        next.issue_date = Some(date);
        if !inv.due_date_fixed {
            next.due_date = date
                .checked_add(jiff::Span::new().days(i64::from(inv.payment_terms_days)))
                .ok();
        }
        next.issued_at = Some(now);
        let (batches, names) = if next.detail == InvoiceDetail::Detailed {
            let batches = crate::claims::batches(s, tenant, &inv.id).await?;
            let work: Vec<_> = batches.iter().flat_map(|b| b.work.clone()).collect();
            let ctx = crate::context::load(s, tenant, &inv.client_id, &[]).await?;
            let names = crate::drafts::create::names(
                s,
                tenant,
                &ctx,
                &work,
                agencyops_store::records::TimeGrouping::Person,
            )
            .await?;
            (batches, names)
        } else {
            (Vec::new(), Default::default())
        };
        let doc = docs::invoice_document(&next, &settings, &batches, &names);
        next.document = docs::keep_issued(s, tenant, &doc, &inv.id).await?;
        agencyops_store::record::bump(&mut next, now);
        // Every write fails the same way: someone took this number or changed
        // the invoice meanwhile, so read again and draw again.
        let mut tx: Tx<()> = Tx::new(tenant).contended(());
        tx.replace(&next, inv.version, ())?;
        tx.push(drawn.write, ());
        // An issued invoice is something the daily AR run follows up: the
        // tenant joins its registry in the same transaction (an idempotent put).
        tx.push(agencyops_store::records::schedule_registration(tenant), ());
        tx.push(
            audit(
                s,
                caller,
                AuditAction::Issue,
                Some(&inv),
                Some(&next),
                &inv.id,
            )?,
            (),
        );
        match tx.run(&*s.table).await {
            Ok(()) => {
                let parts = InvoiceParts {
                    batches,
                    ..InvoiceParts::default()
                };
                return Ok((next, Some(parts)));
            }
            Err(TxError::Failed(())) => continue,
            Err(TxError::Store(e)) => return Err(e.into()),
        }
    }
    Err(ApiError::changed(
        "many invoices were being issued at once; retry",
    ))
}
