//! The demo agency getting paid: a dunning policy, reminders already sent
//! (yesterday's run, with its late fee), an invoice due today (today's run
//! reminds it), the Hooli retainer billed monthly and a reached milestone
//! whose invoice the milestone invoicer drafts.

use serde_json::json;

use crate::demo::{id, Api};
use crate::host::Host;

pub(crate) async fn seed(host: &Host, admin: &Api) -> anyhow::Result<()> {
    let today = jiff::Zoned::now().date();
    let days = |n: i64| today.checked_add(jiff::Span::new().days(n));
    admin
        .call(
            axum::http::Method::PUT,
            "/v1/settings/dunning",
            Some(json!({
                "stages": [
                    {"name": "Heads-up", "offset_days": -3,
                     "subject": "Invoice {number} is due on {due_date}",
                     "body": "Hello {client}, a friendly note that invoice {number} ({balance}) is due on {due_date}."},
                    {"name": "Due today", "offset_days": 0,
                     "subject": "Invoice {number} is due today",
                     "body": "Hello {client}, invoice {number} ({balance}) is due today."},
                    {"name": "Overdue", "offset_days": 7,
                     "subject": "Invoice {number} is {days_overdue} days overdue",
                     "body": "Hello {client}, invoice {number} ({balance}) is {days_overdue} days overdue. As the EU late payment directive allows, a fixed compensation is added.",
                     "late_fee": {"flat": "40.00"}},
                    {"name": "Final notice", "offset_days": 30,
                     "subject": "Final notice: invoice {number}",
                     "body": "Hello {client}, invoice {number} ({balance}) is {days_overdue} days overdue. Please pay now.",
                     "late_fee": {"percent": "1.5"}},
                ],
                "repeat_every_days": 14,
                "max_repeats": 3,
                "quiet_days_after_send": 3,
                "paused": false,
            })),
        )
        .await?;

    // Due today: the website copy deck, issued 30 days ago.
    let clients = admin.get("/v1/clients?limit=1").await?;
    let client = id(&clients["items"][0])?;
    let due_today = id(&admin
        .post(
            "/v1/invoices",
            json!({"client_id": client, "kind": "manual",
                   "issue_date": days(-30)?.to_string(), "due_date": today.to_string(),
                   "lines": [{"description": "Website copy deck", "quantity": "1", "unit_price": "950.00", "tax_code": "VAT23"}]}),
        )
        .await?)?;
    admin
        .post(&format!("/v1/invoices/{due_today}/issue"), json!({}))
        .await?;

    // The Hooli retainer: 40 h a month, unused hours carried up to 20.
    let projects = admin.get("/v1/projects?limit=50").await?;
    let named = |name: &str| -> anyhow::Result<String> {
        let found = projects["items"]
            .as_array()
            .and_then(|a| a.iter().find(|p| p["name"] == name))
            .ok_or_else(|| anyhow::anyhow!("the demo has no project {name:?}"))?;
        id(found)
    };
    let retainer = named("Hooli retainer")?;
    let first_of_month = today.first_of_month();
    admin
        .call(
            axum::http::Method::PUT,
            &format!("/v1/projects/{retainer}/recurring"),
            Some(
                json!({"amount": "4600.00", "period": "monthly", "day_of_month": 1,
                        "start_on": first_of_month.to_string(), "included_hours": "40",
                        "rollover": true, "rollover_cap_hours": "20"}),
            ),
        )
        .await?;

    // The storefront's design sign-off, reached: its invoice is drafted by
    // the milestone invoicer.
    let site = named("Globex storefront")?;
    let milestones = admin
        .get(&format!("/v1/projects/{site}/milestones"))
        .await?;
    let sign_off = milestones["items"]
        .as_array()
        .and_then(|a| a.iter().find(|m| m["name"] == "Design sign-off"))
        .ok_or_else(|| anyhow::anyhow!("the demo storefront has no design sign-off"))?;
    let sign_off = id(sign_off)?;
    admin
        .post(
            &format!("/v1/projects/{site}/milestones/{sign_off}/reach"),
            json!({}),
        )
        .await?;

    // Yesterday's run: the brand audit's overdue reminder (with its fee),
    // the copy deck's heads-up, this month's retainer; then the mail and
    // the milestone draft it queued are delivered, as the consumers would.
    host.followups(Some(days(-1)?)).await?;
    Ok(())
}
