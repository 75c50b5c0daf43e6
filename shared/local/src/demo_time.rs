//! The demo agency's recent weeks, recorded through the API as its people would:
//! last week approved (work in progress, budget burn, an approved expense), a
//! contractor's week waiting for approval, and this week's drafts.

use agencyops_domain::timesheet::IsoWeek;
use agencyops_domain::Role;
use anyhow::anyhow;
use jiff::civil::Date;
use serde_json::json;

use crate::demo::{id, Api, Team, TENANT};
use crate::host::Host;

fn acting_as(host: &Host, admin: &Api, person: &str, role: Role) -> anyhow::Result<Api> {
    let token = host
        .tokens
        .issue(
            &agencyops_platform::Caller {
                tenant: TENANT.into(),
                person: person.into(),
                role,
                client: None,
            },
            jiff::Timestamp::now().as_second(),
            600,
        )
        .map_err(|e| anyhow!("{e}"))?;
    Ok(Api {
        app: admin.app.clone(),
        token,
    })
}

async fn record(api: &Api, project: &str, days: &[(Date, u32, &str)]) -> anyhow::Result<()> {
    for (date, minutes, note) in days {
        api.post(
            "/v1/time-entries",
            json!({"project_id": project, "date": date.to_string(), "minutes": minutes, "note": note}),
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn seed(host: &Host, admin: &Api, team: &Team) -> anyhow::Result<()> {
    let today = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::get("Europe/Lisbon")?)
        .date();
    let this_week = IsoWeek::of(today);
    let last_week = IsoWeek::of(today.checked_sub(jiff::Span::new().days(7))?);
    let last: Vec<Date> = last_week.days().collect();
    let (rui, mara, tom, ines) = (
        acting_as(host, admin, &team.rui, Role::Member)?,
        acting_as(host, admin, &team.mara, Role::Manager)?,
        acting_as(host, admin, &team.tom, Role::Contractor)?,
        acting_as(host, admin, &team.ines, Role::Member)?,
    );
    let p = team.rebrand.as_str();

    // Rui's last week: recorded, submitted, approved by Mara, who manages the project.
    record(
        &rui,
        p,
        &[
            (last[0], 420, "Logo exploration"),
            (last[1], 390, "Logo exploration"),
            (last[2], 450, "Colour system"),
            (last[3], 360, "Type pairing"),
            (last[4], 300, "Client review prep"),
        ],
    )
    .await?;
    let expense = id(&rui
        .post(
            "/v1/expenses",
            json!({"project_id": p, "date": last[2].to_string(), "amount": "84.20", "currency": "EUR",
                   "category": "travel", "note": "Train to the Northwind workshop", "markup_percent": "10"}),
        )
        .await?)?;
    rui.post(
        &format!("/v1/timesheets/{}/{last_week}/submit", team.rui),
        json!({}),
    )
    .await?;
    rui.post(&format!("/v1/expenses/{expense}/submit"), json!({}))
        .await?;
    mara.post(
        &format!("/v1/timesheets/{}/{last_week}/approve", team.rui),
        json!({}),
    )
    .await?;
    mara.post(&format!("/v1/expenses/{expense}/approve"), json!({}))
        .await?;

    // Tom's last week: submitted, waiting for Mara.
    record(
        &tom,
        p,
        &[
            (last[1], 240, "Tagline options"),
            (last[3], 180, "Packaging copy"),
        ],
    )
    .await?;
    tom.post(
        &format!("/v1/timesheets/{}/{last_week}/submit", team.tom),
        json!({}),
    )
    .await?;

    // Inês's week so far: drafts.
    let so_far: Vec<(Date, u32, &str)> = this_week
        .days()
        .take(5)
        .filter(|d| *d <= today)
        .map(|d| (d, 360, "Brand site prototype"))
        .collect();
    record(&ines, p, &so_far).await?;
    Ok(())
}
