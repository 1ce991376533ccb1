//! The one enum convention, checked for every public enum through the
//! public API only: `as_str` and `Display` agree, `FromStr` reads back
//! every variant's `as_str`, the case rules of each type hold, unknown words
//! are an `Other` value or a `ParseEnumError` that names the type and the
//! rule and never shows a long or garbled input whole, and every value can
//! be a `HashSet` key.

use std::collections::HashSet;
use std::fmt::{Debug, Display};
use std::hash::Hash;
use std::str::FromStr;

use aep_flow::{
    AuthSpec, ColumnType, Delivery, FlowState, Frequency, ListingEnd, MappingSourceType,
    ParseEnumError, RunStatus, Service, SslMode, TransportErrorKind,
};

/// Every variant: `Display` is `as_str`, `FromStr` reads `as_str` back to
/// the same variant, and the names are distinct.
fn round_trip<T>(variants: &[T], as_str: fn(&T) -> &str)
where
    T: FromStr<Err = ParseEnumError> + Display + Debug + PartialEq + Eq + Hash + Clone,
{
    let mut names = HashSet::new();
    let mut values = HashSet::new();
    for v in variants {
        let name = as_str(v);
        assert_eq!(v.to_string(), name, "{v:?}: Display is as_str");
        assert_eq!(name.parse::<T>().as_ref(), Ok(v), "{name:?} reads back");
        assert!(names.insert(name.to_owned()), "{name:?} named twice");
        assert!(values.insert(v.clone()), "{v:?} hashed twice");
    }
}

/// Every variant also reads back from its name in upper and lower case.
fn any_case<T>(variants: &[T], as_str: fn(&T) -> &str)
where
    T: FromStr<Err = ParseEnumError> + Debug + PartialEq,
{
    for v in variants {
        let name = as_str(v);
        for spelled in [name.to_uppercase(), name.to_lowercase()] {
            assert_eq!(spelled.parse::<T>().as_ref(), Ok(v), "{spelled:?}");
        }
    }
}

/// Every variant is refused in another case than its own (where that
/// differs).
fn exact_case<T>(variants: &[T], as_str: fn(&T) -> &str)
where
    T: FromStr<Err = ParseEnumError> + Debug + PartialEq,
{
    for v in variants {
        let upper = as_str(v).to_uppercase();
        if upper != as_str(v) {
            assert!(upper.parse::<T>().is_err(), "{upper:?} is refused");
        }
    }
}

/// `input` is refused with an error that names `type_name`.
fn refused<T: FromStr<Err = ParseEnumError> + Debug>(input: &str, type_name: &str) {
    let err = input.parse::<T>().unwrap_err();
    assert_eq!(err.type_name(), type_name, "{input:?}");
    assert!(!err.rule().is_empty());
    assert!(err
        .to_string()
        .starts_with(&format!("invalid {type_name} ")));
}

#[test]
fn service_names_round_trip_ignoring_case() {
    let all = [
        Service::FlowService,
        Service::DataPrep,
        Service::Catalog,
        Service::Ims,
    ];
    round_trip(&all, Service::as_str);
    any_case(&all, Service::as_str);
    assert_eq!(Service::FlowService.as_str(), "Flow Service");
    assert_eq!(Service::Ims.as_str(), "Adobe IMS");
    refused::<Service>("flowservice", "Service");
    refused::<Service>("", "Service");
}

#[test]
fn delivery_names_round_trip_ignoring_case() {
    let all = [Delivery::NotSent, Delivery::Unknown];
    round_trip(&all, Delivery::as_str);
    any_case(&all, Delivery::as_str);
    assert_eq!(Delivery::NotSent.as_str(), "not sent");
    refused::<Delivery>("not_sent", "Delivery");
}

#[test]
fn transport_error_kinds_round_trip_ignoring_case() {
    let all = [
        TransportErrorKind::Dns,
        TransportErrorKind::Connect,
        TransportErrorKind::Tls,
        TransportErrorKind::Timeout,
        TransportErrorKind::Io,
    ];
    round_trip(&all, TransportErrorKind::as_str);
    any_case(&all, TransportErrorKind::as_str);
    // The phrase the library's transport messages have always used.
    assert_eq!(TransportErrorKind::Timeout.to_string(), "timed out");
    assert_eq!(TransportErrorKind::Dns.as_str(), "host name lookup failed");
    refused::<TransportErrorKind>("timeout", "TransportErrorKind");
}

#[test]
fn listing_ends_round_trip_ignoring_case() {
    let all = [ListingEnd::Complete, ListingEnd::Capped];
    round_trip(&all, ListingEnd::as_str);
    any_case(&all, ListingEnd::as_str);
    assert_eq!(ListingEnd::Capped.as_str(), "capped");
    refused::<ListingEnd>("partial", "ListingEnd");
}

#[test]
fn frequencies_round_trip_ignoring_case_and_once_is_not_one() {
    let all = [
        Frequency::Minute,
        Frequency::Hour,
        Frequency::Day,
        Frequency::Week,
    ];
    round_trip(&all, Frequency::as_str);
    any_case(&all, Frequency::as_str);
    assert_eq!("Hour".parse::<Frequency>(), Ok(Frequency::Hour));
    for word in ["once", "hourly", "", " hour"] {
        refused::<Frequency>(word, "Frequency");
    }
}

#[test]
fn ssl_modes_round_trip_in_libpq_spelling_only() {
    let all = [
        SslMode::Disable,
        SslMode::Allow,
        SslMode::Prefer,
        SslMode::Require,
        SslMode::VerifyCa,
        SslMode::VerifyFull,
    ];
    round_trip(&all, SslMode::as_str);
    exact_case(&all, SslMode::as_str);
    assert_eq!(SslMode::VerifyCa.as_str(), "verify-ca");
    let err = "verify_full".parse::<SslMode>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid SslMode \"verify_full\": must be one of disable, allow, prefer, require, \
         verify-ca, verify-full"
    );
    assert_eq!(err.input(), "verify_full");
}

#[test]
fn auth_specs_round_trip_as_the_connection_spec_names_them() {
    let all = [AuthSpec::ConnectionString, AuthSpec::Basic];
    round_trip(&all, AuthSpec::as_str);
    exact_case(&all, AuthSpec::as_str);
    assert_eq!(
        AuthSpec::ConnectionString.as_str(),
        aep_flow::spec::CONNECTION_STRING_AUTH
    );
    assert_eq!(AuthSpec::Basic.to_string(), aep_flow::spec::BASIC_AUTH);
    // The short names the CLI takes.
    assert_eq!("basic".parse::<AuthSpec>(), Ok(AuthSpec::Basic));
    assert_eq!(
        "connection-string".parse::<AuthSpec>(),
        Ok(AuthSpec::ConnectionString)
    );
    refused::<AuthSpec>("Basic", "AuthSpec");
    refused::<AuthSpec>("oauth", "AuthSpec");
}

#[test]
fn mapping_source_types_round_trip_ignoring_case_and_spaces() {
    let all = [MappingSourceType::Attribute, MappingSourceType::Expression];
    round_trip(&all, MappingSourceType::as_str);
    any_case(&all, MappingSourceType::as_str);
    for (text, want) in [
        (" attribute ", MappingSourceType::Attribute),
        ("text/x.schema-path", MappingSourceType::Attribute),
        ("TEXT/X.AEP-XL", MappingSourceType::Expression),
    ] {
        assert_eq!(text.parse::<MappingSourceType>(), Ok(want), "{text:?}");
    }
    refused::<MappingSourceType>("STATIC", "MappingSourceType");
}

#[test]
fn column_types_round_trip_and_keep_unknown_names() {
    let all = [
        ColumnType::Boolean,
        ColumnType::Integer,
        ColumnType::Long,
        ColumnType::Double,
        ColumnType::String,
        ColumnType::Other("decimal".to_owned()),
    ];
    round_trip(&all, ColumnType::as_str);
    any_case(&all[..5], ColumnType::as_str);
    assert_eq!(
        "NUMERIC(10,2)".parse::<ColumnType>(),
        Ok(ColumnType::Other("NUMERIC(10,2)".to_owned()))
    );
}

#[test]
fn flow_states_round_trip_and_keep_unknown_states() {
    let all = [
        FlowState::Enabled,
        FlowState::Disabled,
        FlowState::Other("draft".to_owned()),
    ];
    round_trip(&all, FlowState::as_str);
    any_case(&all[..2], FlowState::as_str);
    assert_eq!("", FlowState::Other(String::new()).as_str());
    assert_eq!("".parse::<FlowState>(), Ok(FlowState::Other(String::new())));
    assert_eq!(
        "Paused".parse::<FlowState>(),
        Ok(FlowState::Other("Paused".to_owned()))
    );
}

#[test]
fn run_statuses_round_trip_and_read_the_services_spellings() {
    let all = [
        RunStatus::Success,
        RunStatus::Failed,
        RunStatus::InProgress,
        RunStatus::Scheduled,
        RunStatus::Other("cancelled".to_owned()),
    ];
    round_trip(&all, RunStatus::as_str);
    any_case(&all[..4], RunStatus::as_str);
    assert_eq!(RunStatus::InProgress.as_str(), "inProgress");
    for word in ["in_progress", "in progress", "In-Progress", " inprogress "] {
        assert_eq!(
            word.parse::<RunStatus>(),
            Ok(RunStatus::InProgress),
            "{word:?}"
        );
    }
    assert_eq!(" FAILED ".parse::<RunStatus>(), Ok(RunStatus::Failed));
    assert_eq!(
        "Queued".parse::<RunStatus>(),
        Ok(RunStatus::Other("Queued".to_owned()))
    );
}

#[test]
fn a_parse_error_shows_a_bounded_escaped_excerpt_of_the_input() {
    let long = "x".repeat(100_000);
    let err = long.parse::<SslMode>().unwrap_err();
    assert_eq!(
        err.input().chars().count(),
        ParseEnumError::MAX_INPUT_CHARS + 1,
        "cut, with an ellipsis"
    );
    assert!(err.input().ends_with('…'));
    assert!(err.to_string().len() < 200, "{}", err.to_string().len());

    // Control characters (an ANSI escape, a newline) are shown escaped,
    // never written raw to a terminal or a log line.
    let err = "\u{1b}[31mred\nline".parse::<Frequency>().unwrap_err();
    let shown = err.to_string();
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    assert!(shown.contains("\\u{1b}[31mred\\nline"), "{shown}");

    // A short input is shown whole.
    let err = "weekly".parse::<Frequency>().unwrap_err();
    assert_eq!(err.input(), "weekly");
    assert_eq!(
        err.to_string(),
        "invalid Frequency \"weekly\": must be one of minute, hour, day, week"
    );
    let _: &dyn std::error::Error = &err;
}
