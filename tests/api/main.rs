//! Black-box tests: the router on port 0 against a real RabbitMQ (`AMQP_URL`, default
//! `amqp://127.0.0.1:5672/%2f`; `.ci/run` starts one, `docker-compose.yml` has one for users)
//! or, with `TEST_BUS=embedded`, the embedded engine (no broker), and the ClickUp sandbox.
//! Each test gets its own queue prefix and store. Tests about RabbitMQ itself (a proxy that
//! cuts the link, a queue deleted on the broker) say so and skip under the embedded engine.

mod admin;
mod admin_edges;
mod assignment_crashes;
mod assignments;
mod audit;
mod broker;
mod broker_topology;
mod browser;
mod clickup;
mod dead_letters;
mod demo;
mod drift;
mod explain;
mod explain_kit;
mod helpers;
mod hostile;
mod hostile_clickup;
mod hostile_iam;
mod hostile_kit;
mod iam;
mod iam_removals;
mod instances;
mod instances_kit;
mod instances_races;
mod instances_watch;
mod lifecycle;
mod lifecycle_brake;
mod lifecycle_ends;
mod lifecycle_kit;
mod lifecycle_roles;
mod logs_clean;
mod metrics;
mod person_races;
#[path = "../common/process.rs"]
mod process;
mod proxy;
mod reconcile;
mod request_kit;
mod requests;
mod retries;
mod rules;
mod rules_startup;
mod scim;
mod scim_brake;
mod scim_kit;
mod scim_lists;
mod scim_parity;
mod scim_quirks;
mod scim_refusals;
mod scim_writes;
mod seed_cases;
mod seed_kit;
mod shutdown;
mod split;
mod sso;
mod timeline;
mod ui;
mod ui_kit;
