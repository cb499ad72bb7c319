//! `serve` and `worker` as two applications with a store pool and a bus engine each, as two
//! processes have them: what the receivers accept, the worker handles. Over RabbitMQ, or
//! over the embedded engine's queues in the SQLite file both open, where no wake-up crosses
//! from one to the other and the worker finds the message by polling.

use clickup_iam_router::{app::Application, sandbox::Role};
use tokio_util::sync::CancellationToken;

use crate::helpers::{fixture, fixture_json, json_with_status, spawn_app_with, Options};

#[tokio::test]
async fn a_worker_of_its_own_handles_what_receivers_of_their_own_accepted() {
    let app = spawn_app_with(Options {
        without_worker: true,
        ..Options::default()
    })
    .await;
    let state = app.sandbox.state();
    state.add_member("mark.lee@example.com", "Mark Lee", Role::Member);
    let mut settings = app.settings.clone();
    settings.http = None;
    settings.iam = None;
    settings.ui = Default::default();
    settings.run_worker = true;
    let worker = Application::build(settings, None).await.unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(worker.run_until_stopped(shutdown.clone()));
    let leaver = fixture_json("iam/04-leaver-terminated.json");

    json_with_status(
        app.post_iam(&fixture("iam/04-leaver-terminated.json"))
            .await,
        202,
    )
    .await;
    let processed = app.wait_processed(&leaver).await;

    assert_eq!(processed.outcome, "removed_member");
    assert!(state.find_by_email("mark.lee@example.com").is_none());
    shutdown.cancel();
    running.await.unwrap().unwrap();
    app.stop().await;
}
