//! The budget consumer on the embedded store: each change counts once, each
//! threshold is raised once, whatever the delivery order or repetition.

use agencyops_apitest::{studio, App};
use agencyops_approvals::budget::{apply, handle_body, Outcome};
use agencyops_domain::budget::Measure;
use agencyops_domain::Currency;
use agencyops_platform::events::{BurnChange, BurnKind};
use agencyops_store::record::load;
use agencyops_store::records::ProjectBurn;
use agencyops_store::{keys, Index, Query};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn change(tenant: &str, project: &str, id: &str, minutes: i64, fees: Decimal) -> BurnChange {
    BurnChange {
        kind: BurnKind::of(minutes < 0),
        tenant: tenant.into(),
        change_id: id.into(),
        project_id: project.into(),
        minutes,
        billable_minutes: minutes,
        fees,
        cost: fees / dec!(2),
        currency: Currency::parse("EUR").unwrap(),
    }
}

async fn burn(app: &App, project: &str) -> ProjectBurn {
    load::<ProjectBurn>(&*app.table, &keys::project_burn("acme", project))
        .await
        .unwrap()
        .expect("burn exists")
}

async fn alert_audits(app: &App, project: &str) -> usize {
    let q = Query::new(Index::Gsi1, keys::audit_entity("acme", "project", project));
    app.stored_items(&q)
        .await
        .iter()
        .filter(|i| i["action"] == "budget_alert")
        .count()
}

#[tokio::test]
async fn thresholds_are_raised_once_even_when_work_is_unapproved_and_approved_again() {
    let app = App::new(agencyops_intake::routes());
    let s = studio(&app, "acme").await;
    let p = s.project.as_str();

    // 8 of 10 budgeted hours and 800 of 1000 EUR: both 80 % alerts.
    let first = change("acme", p, "job1:p", 480, dec!(800));
    assert_eq!(
        apply(&app.services, &first).await.unwrap(),
        Outcome::Applied {
            alerts: vec![(Measure::Hours, 80), (Measure::Fees, 80)]
        }
    );
    // The same message delivered again changes nothing and raises nothing.
    assert_eq!(
        apply(&app.services, &first).await.unwrap(),
        Outcome::AlreadyApplied
    );
    let b = burn(&app, p).await;
    assert_eq!((b.minutes, b.fees, b.alerts.len()), (480, dec!(800), 2));

    // 9 h: between thresholds, no alert.
    let r = apply(&app.services, &change("acme", p, "job2:p", 60, dec!(100)))
        .await
        .unwrap();
    assert_eq!(r, Outcome::Applied { alerts: vec![] });
    // 10 h: both 100 % alerts.
    let r = apply(&app.services, &change("acme", p, "job3:p", 60, dec!(100)))
        .await
        .unwrap();
    assert_eq!(
        r,
        Outcome::Applied {
            alerts: vec![(Measure::Hours, 100), (Measure::Fees, 100)]
        }
    );
    // Un-approving two hours lowers burn; approving them again re-crosses 100 %
    // but does not raise it a second time.
    apply(
        &app.services,
        &change("acme", p, "job4:p", -120, dec!(-200)),
    )
    .await
    .unwrap();
    assert_eq!(burn(&app, p).await.minutes, 480);
    let again = apply(&app.services, &change("acme", p, "job5:p", 120, dec!(200)))
        .await
        .unwrap();
    assert_eq!(again, Outcome::Applied { alerts: vec![] });

    let b = burn(&app, p).await;
    assert_eq!(b.minutes, 600);
    assert_eq!(b.fees, dec!(1000));
    assert_eq!(b.cost, dec!(500));
    assert_eq!(b.changes_applied, 5);
    assert_eq!(b.alerts.len(), 4, "{:?}", b.alerts);
    assert_eq!(alert_audits(&app, p).await, 4, "one audit record per alert");
}

#[tokio::test]
async fn a_message_delivered_twice_at_the_same_moment_counts_once() {
    let app = App::new(agencyops_intake::routes());
    let s = studio(&app, "acme").await;
    let body = change("acme", &s.project, "job9:p", 500, dec!(900)).to_body();
    let (a, b) = tokio::join!(
        handle_body(&app.services, &body),
        handle_body(&app.services, &body)
    );
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
    let burn = burn(&app, &s.project).await;
    assert_eq!(burn.minutes, 500);
    assert_eq!(burn.changes_applied, 1);
    // 500 min = 8.33 h of 10 and 900 of 1000: one 80 % alert each, once.
    assert_eq!(burn.alerts.len(), 2);
    assert_eq!(alert_audits(&app, &s.project).await, 2);
}

#[tokio::test]
async fn messages_that_can_never_succeed_fail_and_unknown_projects_are_skipped() {
    let app = App::new(agencyops_intake::routes());
    let s = studio(&app, "acme").await;
    assert!(handle_body(&app.services, "not json").await.is_err());
    let mut gbp = change("acme", &s.project, "x:p", 60, dec!(1));
    gbp.currency = Currency::parse("GBP").unwrap();
    assert!(handle_body(&app.services, &gbp.to_body()).await.is_err());
    let mut bad_tenant = change("acme", &s.project, "x:p", 60, dec!(1));
    bad_tenant.tenant = "a#b".into();
    assert!(handle_body(&app.services, &bad_tenant.to_body())
        .await
        .is_err());
    assert!(
        load::<ProjectBurn>(&*app.table, &keys::project_burn("acme", &s.project))
            .await
            .unwrap()
            .is_none(),
        "nothing was applied"
    );
    // A project of another tenant is unknown here.
    let other = change("globex", &s.project, "y:p", 60, dec!(1));
    assert_eq!(
        apply(&app.services, &other).await.unwrap(),
        Outcome::UnknownProject
    );
}

#[tokio::test]
async fn a_threshold_is_raised_only_once_it_is_really_reached() {
    let app = App::new(agencyops_intake::routes());
    let s = studio(&app, "acme").await;
    let p = s.project.as_str();
    // 799.95 of 1000 EUR is 79.995 %: it reads "80.00" rounded, but is not 80 % yet.
    let r = apply(&app.services, &change("acme", p, "a:p", 60, dec!(799.95)))
        .await
        .unwrap();
    assert_eq!(r, Outcome::Applied { alerts: vec![] });
    let r = apply(&app.services, &change("acme", p, "b:p", 1, dec!(0.05)))
        .await
        .unwrap();
    assert_eq!(
        r,
        Outcome::Applied {
            alerts: vec![(Measure::Fees, 80)]
        }
    );
    assert_eq!(alert_audits(&app, p).await, 1);
}
