//! The AR follow-ups samples in `events/ar-followups/` through the Lambda entry
//! paths, with DynamoDB (its sparse due index included) and SQS on a private
//! moto: a dunning policy saved through API Gateway, an issued invoice, then
//! the daily schedule's event for the day the reminder falls due, delivered
//! twice: one reminder (and one late fee) reaches the mail-sender queue.

mod support;

use std::collections::HashMap;

use agencyops_platform::config::Config;
use agencyops_platform::mail::{MailPurpose, OutgoingMail};
use agencyops_testkit::Moto;
use support::{invoke, sample};

async fn messages(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<OutgoingMail> {
    let mut out = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        let batch = got.messages();
        if batch.is_empty() {
            return out;
        }
        for m in batch {
            out.push(serde_json::from_str(m.body().unwrap_or_default()).expect("an outgoing mail"));
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("delete");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_schedule_reminds_once_on_dynamodb_and_sqs() {
    let moto = Moto::start().expect("moto_server must start");
    let sdk = agencyops_platform::aws::emulator_config(&moto.endpoint);
    agencyops_store::dynamo::create_table(&aws_sdk_dynamodb::Client::new(&sdk), "agencyops-test")
        .await
        .expect("create table");
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let mut urls = HashMap::new();
    for name in ["mail-sender", "invoice-builder"] {
        let q = sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .expect("queue");
        urls.insert(name, q.queue_url().unwrap_or_default().to_owned());
    }
    let config = Config::from_vars(HashMap::from([
        ("TABLE_NAME".to_owned(), "agencyops-test".to_owned()),
        (
            "CURSOR_SECRET".to_owned(),
            "0123456789abcdef0123456789abcdef".to_owned(),
        ),
        ("AWS_ENDPOINT_URL".to_owned(), moto.endpoint.clone()),
        (
            "QUEUE_URL_MAIL_SENDER".to_owned(),
            urls["mail-sender"].clone(),
        ),
        (
            "QUEUE_URL_INVOICE_BUILDER".to_owned(),
            urls["invoice-builder"].clone(),
        ),
        (
            "BOOTSTRAP_ADMINS".to_owned(),
            format!("acme:{}", support::SAMPLE_ADMIN),
        ),
    ]))
    .expect("config");
    let services = agencyops_platform::lambda::services(&config).await;
    let intake = agencyops_intake::router(services.clone());
    let invoicing = agencyops_invoicing::router(services.clone());
    let followups = agencyops_ar_followups::router(services.clone());

    let policy = invoke(&followups, "ar-followups/put-dunning-policy.json", &[]).await;
    assert!(
        matches!(policy.status, 200 | 201),
        "{}: {}",
        policy.status,
        policy.body
    );
    let client = invoke(&intake, "ar-followups/create-billed-client.json", &[]).await;
    assert_eq!(client.status, 201, "{}", client.body);
    let client_id = client.body["id"].as_str().unwrap_or_default().to_owned();
    let created = invoke(
        &invoicing,
        "invoicing/create-invoice.json",
        &[("CLIENT_ID", &client_id)],
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap_or_default().to_owned();
    let issued = invoke(
        &invoicing,
        "invoicing/issue-invoice.json",
        &[("INVOICE_ID", &id)],
    )
    .await;
    assert_eq!(issued.status, 200, "{}", issued.body);
    let due: jiff::civil::Date = issued.body["due_date"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .expect("an issued invoice has a due date");

    // The run for the day the "Overdue" stage falls due, delivered twice.
    let day = due
        .checked_add(jiff::Span::new().days(8))
        .expect("a date")
        .to_string();
    let event: serde_json::Value = serde_json::from_str(&sample(
        "ar-followups/daily-schedule.json",
        &[("AS_OF", &day)],
    ))
    .expect("a schedule event");
    for _ in 0..2 {
        let run = agencyops_ar_followups::daily::handle_schedule(&services, &event)
            .await
            .expect("the daily run");
        assert_eq!(run.as_of, day);
        assert_eq!(run.tenants.len(), 1, "issuing registered the tenant");
    }
    let mails = messages(&sqs, &urls["mail-sender"]).await;
    let reminders: Vec<_> = mails
        .iter()
        .filter_map(|m| match &m.purpose {
            MailPurpose::Reminder { invoice_id, stage } => {
                Some((invoice_id.clone(), stage.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        reminders.len(),
        1,
        "the latest stage due, once, though the run came twice: {reminders:?}"
    );
    assert_eq!(reminders[0].0, id);

    // The fee is its own issued invoice, once.
    let all = agencyops_store::record::all_items(
        &*services.table,
        &agencyops_store::Query::new(
            agencyops_store::Index::Gsi1,
            agencyops_store::keys::invoices("acme"),
        ),
    )
    .await
    .expect("invoices");
    let fee_invoices = all
        .iter()
        .filter(|i| i.get("fee_for").is_some_and(|f| !f.is_null()))
        .count();
    assert_eq!(fee_invoices, 1, "the overdue stage charged its fee once");
}
