//! Sandboxes through the client: the fake keeps each `x-sandbox-name`'s
//! objects apart, as Platform does.

mod common;

use aep_flow::{Client, ConnectionFilter, Platform, PostgresConnection, Secret};
use aep_flow::{PostgresLogin, Sandbox};
use aep_flow_testing::FakeFlowService;

fn client_in(fake: &FakeFlowService, sandbox: &str) -> Client {
    let platform = Platform::new(
        Secret::from(fake.access_token()),
        fake.api_key(),
        Sandbox {
            org_id: fake.org_id(),
            name: sandbox,
        },
    )
    .with_base_url(fake.base_url());
    Client::new(platform).unwrap()
}

fn names(client: &Client) -> Vec<String> {
    let listed = client.list_connections(ConnectionFilter::new()).unwrap();
    listed.into_iter().map(|c| c.name).collect()
}

#[test]
fn a_create_in_one_sandbox_is_not_listed_in_another() {
    let fake = FakeFlowService::start().unwrap();
    let prod = Client::new(common::platform(&fake)).unwrap();
    let dev = client_in(&fake, "dev");
    let conn = |name: &str| {
        PostgresConnection::new(
            name,
            PostgresLogin {
                server: "db.example.com",
                database: "orders",
                username: "etl",
                password: Secret::from("pw"),
            },
        )
    };
    let made = dev.create_postgres_connection(&conn("in-dev")).unwrap();
    prod.create_postgres_connection(&conn("in-prod")).unwrap();

    assert_eq!(names(&dev), ["in-dev"]);
    assert_eq!(names(&prod), ["in-prod"]);
    assert!(prod.get_connection(&made.id).unwrap_err().status() == Some(404));
    assert_eq!(fake.sandbox("dev").connections()[0].name, "in-dev");
    assert_eq!(fake.connections()[0].name, "in-prod");
}
