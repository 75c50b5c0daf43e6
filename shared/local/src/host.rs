//! Mounts every function's routes over the embedded adapters and runs what AWS
//! would run around them: SQS consumers (see `jobs`) and schedules (the TTL sweep).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use agencyops_platform::auth::{require_dev_token, DevTokens};
use agencyops_platform::blob::embedded::EmbeddedBlob;
use agencyops_platform::clock::{Clock, SystemClock};
use agencyops_platform::queue::embedded::EmbeddedQueue;
use agencyops_platform::Services;
use agencyops_store::counting::{counted, CountingTable};
use agencyops_store::EmbeddedTable;
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use axum::Router;
use utoipa::OpenApi;

use crate::calls::{count_request, Tally};
use crate::datadir::DataDir;
use crate::jobs::{Consumers, Handler};

pub struct Host {
    pub services: Services,
    pub table: EmbeddedTable,
    pub queue: Arc<EmbeddedQueue>,
    pub blob: Arc<EmbeddedBlob>,
    pub tokens: DevTokens,
    /// `serve --count-calls`: DynamoDB calls per operation, and where to write them.
    pub count_calls: Option<(Tally, PathBuf)>,
    /// Queue messages delivered twice and out of order (see [`Consumers::disorderly`]).
    pub disorderly: bool,
}

impl Host {
    pub fn open(data: &DataDir, base_url: &str) -> anyhow::Result<Host> {
        let table = EmbeddedTable::open(&data.store_path())?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let (mut services, queue) =
            Services::embedded(table.clone(), clock.clone(), data.secret_for("cursors"))?;
        let blob = Arc::new(
            EmbeddedBlob::new(
                data.root.join("blobs"),
                data.secret_for("blob-urls"),
                base_url.to_owned(),
                Some(queue.clone()),
            )?
            .with_clock(clock.clone()),
        );
        services.blob = Some(blob.clone());
        // Links in mail (the client's view of an invoice) point here.
        services.public_url = Some(base_url.trim_end_matches('/').to_owned());
        // Mail leaves as one .eml file per message under DATA/mail/, which
        // any mail client opens; only the mail sender delivers it.
        let mail = agencyops_platform::mail::EmbeddedMail::new(
            data.root.join("mail"),
            "billing@agencyops.localhost",
        )
        .with_clock(clock.clone());
        let services = services.with_mail(Arc::new(mail));
        Ok(Host {
            services,
            table,
            queue,
            blob,
            tokens: data.tokens(),
            count_calls: None,
            disorderly: false,
        })
    }

    /// Counts every request's, message's and scheduled run's DynamoDB calls
    /// from now on, and writes the table to `file` when the host stops.
    pub fn count_calls(mut self, file: PathBuf) -> Host {
        self.services.table = Arc::new(CountingTable::new(self.services.table.clone()));
        self.count_calls = Some((Tally::default(), file));
        self
    }

    /// Every function's API behind dev-token authentication, plus the open routes.
    pub fn app(&self) -> Router {
        let routes = agencyops_intake::routes()
            .merge(agencyops_time::routes())
            .merge(agencyops_approvals::routes())
            .merge(agencyops_receipts::routes())
            .merge(agencyops_invoicing::routes())
            .merge(agencyops_ar_followups::routes());
        let mut api = agencyops_platform::http::finish(routes, self.services.clone(), "local")
            .layer(from_fn_with_state(self.tokens.clone(), require_dev_token));
        if let Some((tally, _)) = &self.count_calls {
            api = api.route_layer(from_fn_with_state(tally.clone(), count_request));
        }
        Router::new()
            .route("/openapi.json", get(|| async { axum::Json(openapi()) }))
            .route("/health", get(|| async { "ok" }))
            .merge(self.blob.clone().router())
            .merge(api)
    }

    pub async fn serve(self, addr: SocketAddr) -> anyhow::Result<()> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        tracing::info!(%addr, "agencyops listening");
        eprintln!("agencyops serving on http://{addr} (OpenAPI at /openapi.json)");
        let tally = self.count_calls.as_ref().map(|(t, _)| t.clone());
        let schedules = tokio::spawn(run_schedules(
            self.table.clone(),
            self.services.clone(),
            tally,
        ));
        let consumers = tokio::spawn(self.consumers().run());
        let app = self.app();
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown())
            .await?;
        schedules.abort();
        consumers.abort();
        if let Some((tally, file)) = &self.count_calls {
            std::fs::write(file, tally.table())?;
            eprintln!("DynamoDB calls per operation written to {}", file.display());
        }
        Ok(())
    }
}

/// What to tell someone serving beyond this machine: dev tokens are minted by
/// anyone with the data directory, and nothing here is hardened for a network.
pub fn exposure_warning(addr: SocketAddr) -> Option<String> {
    (!addr.ip().is_loopback()).then(|| {
        format!(
            "warning: serving on {addr}, which other machines can reach. The local host is \
             for one machine: its dev tokens are not real sign-ins and its traffic is not \
             encrypted. Use --addr 127.0.0.1:PORT unless you mean it."
        )
    })
}

/// The OpenAPI 3.1 document of every mounted function.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
    let mut doc = agencyops_intake::ApiDoc::openapi();
    doc.merge(agencyops_time::ApiDoc::openapi());
    doc.merge(agencyops_approvals::openapi());
    doc.merge(agencyops_receipts::ApiDoc::openapi());
    doc.merge(agencyops_invoicing::ApiDoc::openapi());
    doc.merge(agencyops_ar_followups::ApiDoc::openapi());
    doc.info.title = "AgencyOps".into();
    doc.info.license = None;
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    doc.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
        "bearer",
        Vec::<String>::new(),
    )]);
    agencyops_platform::openapi::document_problems(&mut doc);
    agencyops_platform::openapi::link_creates(&mut doc);
    doc
}

impl Host {
    /// The SQS consumers of every mounted function, on the same handlers the
    /// Lambda entries call.
    pub fn consumers(&self) -> Consumers {
        let services = self.services.clone();
        let budget: Handler = Arc::new(move |body| {
            let services = services.clone();
            Box::pin(
                async move { agencyops_approvals::budget::handle_body(&services, &body).await },
            )
        });
        let services = self.services.clone();
        let receipts: Handler = Arc::new(move |body| {
            let services = services.clone();
            Box::pin(async move {
                agencyops_receipts::process_event_json(&services, &body)
                    .await
                    .map_err(|e| e.to_string())
            })
        });
        let services = self.services.clone();
        let builder: Handler = Arc::new(move |body| {
            let services = services.clone();
            Box::pin(
                async move { agencyops_invoicing::handle_build_message(&services, &body).await },
            )
        });
        let services = self.services.clone();
        let mail: Handler = Arc::new(move |body| {
            let services = services.clone();
            Box::pin(async move {
                agencyops_ar_followups::mail_sender::handle_body(&services, &body)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        });
        let services = self.services.clone();
        let milestones: Handler = Arc::new(move |body| {
            let services = services.clone();
            Box::pin(async move {
                agencyops_invoicing::milestones::handle_body(&services, &body)
                    .await
                    .map(|_| ())
            })
        });
        let consumers = Consumers::new(self.queue.clone())
            .on(agencyops_platform::events::APPROVED_QUEUE, budget)
            .on(agencyops_invoicing::BUILDER_QUEUE, builder)
            .on(agencyops_platform::events::MILESTONES_QUEUE, milestones)
            .on(agencyops_platform::mail::MAIL_QUEUE, mail)
            .on(
                agencyops_platform::blob::embedded::BLOB_EVENTS_QUEUE,
                receipts,
            );
        let consumers = match self.disorderly {
            true => consumers.disorderly(),
            false => consumers,
        };
        match &self.count_calls {
            Some((tally, _)) => consumers.counted(tally.clone()),
            None => consumers,
        }
    }
}

/// What `agencyops followups` prints: the run, and what its queues delivered.
#[derive(serde::Serialize)]
pub struct FollowupsReport {
    pub run: agencyops_ar_followups::daily::DailyRun,
    /// Messages (mail, milestone drafts, invoice builds) handled after the run.
    pub delivered: usize,
}

impl Host {
    /// The daily AR job for `as_of` (default: the clock's today in UTC),
    /// then every queue drained, as the scheduled Lambda and its consumers
    /// would do it.
    pub async fn followups(
        &self,
        as_of: Option<jiff::civil::Date>,
    ) -> anyhow::Result<FollowupsReport> {
        let as_of = as_of.unwrap_or_else(|| utc_today(&*self.services.clock));
        let run = agencyops_ar_followups::daily::run(&self.services, as_of).await?;
        let delivered = self.consumers().drain().await;
        Ok(FollowupsReport { run, delivered })
    }
}

fn utc_today(clock: &dyn Clock) -> jiff::civil::Date {
    clock.now().to_zoned(jiff::tz::TimeZone::UTC).date()
}

/// Schedules the local host runs in place of EventBridge and DynamoDB's TTL
/// sweeper: the sweep each minute, and the daily AR run once per UTC day (at
/// start and whenever the date turns; the run itself is once-only per date).
async fn run_schedules(table: EmbeddedTable, services: Services, tally: Option<Tally>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    let mut last_daily = None;
    loop {
        tick.tick().await;
        let clock = services.clock.clone();
        if let Err(e) = table.purge_expired(clock.now().as_second()).await {
            tracing::warn!(error = %e, "ttl sweep failed");
        }
        let today = utc_today(&*clock);
        if last_daily != Some(today) {
            let (run, calls) = counted(agencyops_ar_followups::daily::run(&services, today)).await;
            if let Some(t) = &tally {
                t.record("schedule ar-daily", run.is_ok(), calls);
            }
            match run {
                Ok(run) => {
                    tracing::info!(as_of = %today, tenants = run.tenants.len(), "daily AR run done");
                    last_daily = Some(today);
                }
                Err(e) => tracing::warn!(error = %e, "daily AR run failed; retried next minute"),
            }
        }
    }
}

/// Ctrl-C, or the SIGTERM a script or service manager stops the host with.
async fn shutdown() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(t) => t,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_addresses_beyond_this_machine_are_warned_about() {
        for local in ["127.0.0.1:3000", "[::1]:3000", "127.0.0.2:80"] {
            assert_eq!(exposure_warning(local.parse().unwrap()), None, "{local}");
        }
        for open in ["0.0.0.0:3000", "[::]:3000", "192.168.1.20:3000"] {
            let warning = exposure_warning(open.parse().unwrap());
            assert!(
                warning
                    .as_deref()
                    .is_some_and(|w| w.starts_with("warning:") && w.contains(open)),
                "{open}: {warning:?}"
            );
        }
    }
}
