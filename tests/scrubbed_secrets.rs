//! `ClientBuilder::with_scrubbed_secret`: a secret the caller holds but no
//! call sends (a database password the service stored) is scrubbed from
//! the errors of every call and from the run errors the client shows,
//! against the fake over 127.0.0.1.

mod common;

use aep_flow::{Client, FlowId, RunFilter, Secret};
use aep_flow_testing::{FakeFlowService, FakeRun, Reply};

const PASSWORD: &str = "db-Pw-Canary-7Hq2";
const FLOW: &str = "0f1e2d3c-0000-4000-8000-00000000f1a0";

fn assert_no_run_of(secret: &str, text: &str) {
    let chars: Vec<char> = secret.chars().collect();
    for run in chars.windows(6) {
        let run: String = run.iter().collect();
        assert!(!text.contains(&run), "{run:?} leaked: {text}");
    }
}

fn echo(fake: &FakeFlowService) {
    fake.push_reply(Reply::json(
        400,
        format!(
            r#"{{"type":"x/FLOW-1400-400","title":"Password={PASSWORD}","report":{{"detailed-message":"login {PASSWORD} refused"}}}}"#
        ),
    ));
}

#[test]
fn a_registered_secret_is_scrubbed_from_errors_to_calls_that_do_not_send_it() {
    let fake = FakeFlowService::start().unwrap();
    let flow: FlowId = FLOW.parse().unwrap();
    // Without it, the service's text is shown as it came (the test sees
    // the echo)...
    let plain = Client::new(common::platform(&fake)).unwrap();
    echo(&fake);
    let e = plain.get_flow(&flow).unwrap_err();
    assert!(e.to_string().contains(PASSWORD), "{e}");
    // ...with it, no run of it in Display or Debug, for a read by id or a
    // listing.
    let client = Client::builder(common::platform(&fake))
        .with_scrubbed_secret(&Secret::from(PASSWORD))
        .with_scrubbed_secret(&Secret::from(""))
        .build()
        .unwrap();
    echo(&fake);
    let e = client.get_flow(&flow).unwrap_err();
    assert_no_run_of(PASSWORD, &format!("{e} {e:?}"));
    assert!(e.to_string().contains("[REDACTED]"), "{e}");
    echo(&fake);
    let e = client.list_runs(RunFilter::new(flow.clone())).unwrap_err();
    assert_no_run_of(PASSWORD, &format!("{e} {e:?}"));
    // A run's error shown by the client.
    fake.add_run(
        FLOW,
        FakeRun::new("failed").with_error("E", format!("bad password {PASSWORD}")),
    );
    let runs = client.list_runs(RunFilter::new(flow)).unwrap();
    let shown = client.shown_run_error(&runs[0].errors[0], &[]);
    assert_no_run_of(PASSWORD, &shown);
    assert!(shown.starts_with("E: bad password "), "{shown}");
}

/// A listing whose pages loop names the item it saw again: an id is
/// service text like any other, and a service that stored the password
/// where an id goes (or echoes it as one) must not get it into the error.
#[test]
fn a_registered_secret_is_scrubbed_from_the_loop_error_of_a_listing() {
    let fake = FakeFlowService::start().unwrap();
    let client = Client::builder(common::platform(&fake))
        .with_scrubbed_secret(&Secret::from(PASSWORD))
        .build()
        .unwrap();
    let page = |next: &str| {
        Reply::json(
            200,
            format!(
                r#"{{"items":[{{"id":"{PASSWORD}","flowId":"{FLOW}","createdAt":1}}],
                    "_links":{{"next":{{"href":"/runs?limit=50&page={next}"}}}}}}"#
            ),
        )
    };
    fake.push_reply(page("2"));
    fake.push_reply(page("3"));
    let e = client
        .list_runs(RunFilter::new(FLOW.parse().unwrap()))
        .unwrap_err();
    assert!(e.to_string().contains("loops"), "{e}");
    assert_no_run_of(PASSWORD, &format!("{e} {e:?}"));
}

/// Catalog's offset paging that ignores `start=` answers the same full
/// page again: the loop error names the dataset id, scrubbed.
#[test]
fn a_registered_secret_is_scrubbed_from_the_loop_error_of_offset_paging() {
    let fake = FakeFlowService::start().unwrap();
    let client = Client::builder(common::platform(&fake))
        .with_scrubbed_secret(&Secret::from(PASSWORD))
        .build()
        .unwrap();
    let page = || {
        Reply::json(
            200,
            format!(r#"{{"{PASSWORD}":{{"name":"d1"}},"other-{PASSWORD}":{{"name":"d2"}}}}"#),
        )
    };
    fake.push_reply(page());
    fake.push_reply(page());
    let e = client
        .list_datasets(aep_flow::DatasetFilter::new().with_page_size(2))
        .unwrap_err();
    assert!(e.to_string().contains("loops"), "{e}");
    assert_no_run_of(PASSWORD, &format!("{e} {e:?}"));
}

/// Neither the builder nor the client shows a secret it holds in Debug:
/// the access token, the IMS client secret, or a registered secret.
#[test]
fn debug_of_the_builder_and_the_client_shows_no_secret() {
    // Canaries that share no 6 characters with the other settings.
    let fake = FakeFlowService::builder()
        .access_token("Tok-Canary-Zq81xw")
        .ims_client("client-id-x", "Ims-Canary-Kv57jp")
        .start()
        .unwrap();
    for platform in [common::platform(&fake), common::platform_with_ims(&fake)] {
        let builder = Client::builder(platform).with_scrubbed_secret(&Secret::from(PASSWORD));
        let shown = format!("{builder:?} {builder:#?}");
        let client = builder.build().unwrap();
        // After a call, the IMS client holds an issued token too.
        client
            .list_runs(RunFilter::new(FLOW.parse().unwrap()))
            .unwrap();
        let shown = format!("{shown} {client:?} {client:#?}");
        for secret in [PASSWORD, fake.access_token(), fake.ims_client_secret()] {
            assert_no_run_of(secret, &shown);
        }
    }
}

/// A check of what a read found quotes it (the flow spec's id when it
/// cannot take PostgreSQL): scrubbed like the service's own messages.
#[test]
fn a_registered_secret_is_scrubbed_from_a_check_that_quotes_the_answer() {
    let fake = FakeFlowService::start().unwrap();
    let client = Client::builder(common::platform(&fake))
        .with_scrubbed_secret(&Secret::from(PASSWORD))
        .build()
        .unwrap();
    fake.push_reply(Reply::json(
        200,
        format!(
            r#"{{"items":[{{"id":"{PASSWORD}","name":"CRMToAEP","version":"1.0",
                "sourceConnectionSpecIds":["other"]}}]}}"#
        ),
    ));
    let e = client.postgres_flow_spec().unwrap_err();
    assert!(e.is_unsuitable(), "{e}");
    assert_no_run_of(PASSWORD, &format!("{e} {e:?}"));
}
