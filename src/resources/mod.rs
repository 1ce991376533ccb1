//! Layer 5: one module per Flow Service resource, each a small set of
//! types, paths and filters on the client core's request builder and its
//! `Resource` trait (get, pages, list, find, delete written once).

pub(crate) mod connections;
pub(crate) mod datasets;
pub(crate) mod explore;
pub(crate) mod flows;
pub(crate) mod mapping_sets;
pub(crate) mod pipeline;
pub(crate) mod postgres;
pub(crate) mod runs;
pub(crate) mod schedule;
pub(crate) mod source_connections;
pub(crate) mod target_connections;

// The client core (headers, retries, deadline, paging, errors, IMS tokens)
// driven through the resource calls, so they sit at the resources layer.
#[cfg(test)]
mod client_tests;
