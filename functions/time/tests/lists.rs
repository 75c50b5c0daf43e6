//! Lists a person uses to find their work: newest first, filtered by project,
//! status and dates, paged with cursors; and every change leaves an audit trail.

mod support;

use agencyops_domain::timesheet::WorkStatus;
use agencyops_store::{keys, Index, Query, SkCondition};
use serde_json::json;
use support::*;

#[tokio::test]
async fn entries_and_expenses_filter_and_page() {
    let (app, s) = setup().await;
    let m = &s.member;
    let dates = [
        "2026-11-02",
        "2026-11-09",
        "2026-11-16",
        "2026-11-17",
        "2026-11-18",
    ];
    let mut ids = Vec::new();
    for (i, d) in dates.iter().enumerate() {
        let project = if i % 2 == 0 {
            &s.project
        } else {
            &s.side_project
        };
        ids.push(record(&app, m, project, d, 30).await.expect(201).id());
        expense(&app, m, project, d, "4.00").await.expect(201);
    }
    set_entry_status(&app, "acme", &ids[0], WorkStatus::Approved).await;

    let listed = entries_of(&app, m).await;
    let listed_dates: Vec<_> = listed.iter().map(|e| e["date"].as_str().unwrap()).collect();
    let mut newest_first = dates.to_vec();
    newest_first.reverse();
    assert_eq!(listed_dates, newest_first);

    let ranged = all(&app, m, "/v1/time-entries?from=2026-11-09&to=2026-11-17").await;
    assert_eq!(ranged.len(), 3);
    let on_side = all(
        &app,
        m,
        &format!("/v1/time-entries?project_id={}", s.side_project),
    )
    .await;
    assert!(on_side
        .iter()
        .all(|e| e["project_id"] == s.side_project.as_str()));
    assert_eq!(on_side.len(), 2);
    let approved = all(&app, m, "/v1/time-entries?status=approved").await;
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0]["id"], ids[0].as_str());

    // One at a time, following the cursor, sees each entry once.
    let mut seen = Vec::new();
    let mut url = "/v1/time-entries?limit=2".to_owned();
    loop {
        let page = app.get(m, &url).await.expect(200).body;
        for e in page["items"].as_array().unwrap() {
            seen.push(e["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("/v1/time-entries?limit=2&cursor={c}"),
            None => break,
        }
    }
    seen.sort();
    let mut all_ids = ids.clone();
    all_ids.sort();
    assert_eq!(seen, all_ids);

    let exp = all(&app, m, "/v1/expenses?from=2026-11-09&to=2026-11-17").await;
    assert_eq!(exp.len(), 3);
    let exp = all(&app, m, &format!("/v1/expenses?project_id={}", s.project)).await;
    assert_eq!(exp.len(), 3);
    assert_eq!(expenses_of(&app, m).await.len(), dates.len());
    // Someone else's lists are their own.
    assert!(entries_of(&app, &s.contractor).await.is_empty());
}

#[tokio::test]
async fn every_change_to_an_entry_is_audited() {
    let (app, s) = setup().await;
    let id = record(&app, &s.member, &s.project, "2026-11-18", 30)
        .await
        .expect(201)
        .id();
    let path = format!("/v1/time-entries/{id}");
    let later = || app.clock.advance(jiff::SignedDuration::from_secs(1));
    later();
    app.patch(&s.member, &path, json!({"date": "2026-11-19"}))
        .await
        .expect(200);
    later();
    app.delete(&s.member, &path).await.expect(204);
    let q =
        Query::new(Index::Gsi1, keys::audit_entity("acme", "time_entry", &id)).sk(SkCondition::Any);
    let page = app.table.query(&q).await.unwrap();
    let actions: Vec<_> = page
        .items
        .iter()
        .map(|i| i["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["create", "update", "delete"]);
    // The day totals went back to nothing: the whole day can be booked again.
    record(&app, &s.member, &s.project, "2026-11-19", 24 * 60)
        .await
        .expect(201);
    record(&app, &s.member, &s.project, "2026-11-18", 24 * 60)
        .await
        .expect(201);
}

#[tokio::test]
async fn staff_list_a_projects_time_across_its_people_and_members_see_only_their_own() {
    let (app, s) = setup().await;
    record(&app, &s.member, &s.project, "2026-11-16", 60)
        .await
        .expect(201);
    record(&app, &s.contractor, &s.project, "2026-11-17", 90)
        .await
        .expect(201);
    record(&app, &s.member, &s.side_project, "2026-11-17", 30)
        .await
        .expect(201);
    let url = format!("/v1/time-entries?project_id={}", s.project);

    for staff in [&s.manager, &s.finance, &s.admin] {
        let listed = all(&app, staff, &url).await;
        let mut people: Vec<_> = listed
            .iter()
            .map(|e| e["person_id"].as_str().unwrap().to_owned())
            .collect();
        people.sort();
        let mut want = vec![s.member.person.clone(), s.contractor.person.clone()];
        want.sort();
        assert_eq!(people, want, "{} sees everyone's time on it", staff.role);
        assert!(listed.iter().all(|e| e["project_id"] == s.project.as_str()));
    }
    let ranged = all(
        &app,
        &s.manager,
        &format!("{url}&from=2026-11-17&to=2026-11-17"),
    )
    .await;
    assert_eq!(ranged.len(), 1, "the date range narrows it");

    let own = all(&app, &s.member, &url).await;
    assert_eq!(own.len(), 1, "a member lists only their own time");
    assert_eq!(own[0]["person_id"], s.member.person.as_str());

    let globex = agencyops_apitest::who("globex", "boss", "admin");
    app.get(&globex, &url).await.expect(404);
    app.get(&s.client_user, &url).await.expect(403);
}
