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

use serde::{Deserialize, Deserializer};

use crate::client::input::{check_description, check_name};
use crate::error::Error;
use crate::ids::FromService;
use crate::wire::body::SpecRef;
use crate::wire::read;

/// `WireItem` for a type read from the service's JSON, with an `id` and
/// an `etag: String` that is empty when the answer has none (an empty
/// etag is read like a missing one; any other is checked).
macro_rules! wire_item {
    ($wire:ty) => {
        impl $crate::client::results::WireItem for $wire {
            fn id(&self) -> &str {
                self.id.as_ref()
            }
            fn etag(&self) -> Option<&str> {
                Some(self.etag.as_str()).filter(|e| !e.is_empty())
            }
        }
    };
}
pub(crate) use wire_item;

/// A single member of a nested object, read strictly:
/// `nested!(fn table_name, "tableName", String)` reads `params.tableName`
/// from the field it is put on. A missing or `null` object or member is
/// `None`.
macro_rules! nested {
    (fn $name:ident, $member:literal, $ty:ty) => {
        fn $name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<$ty>, D::Error> {
            #[derive(serde::Deserialize)]
            struct Outer {
                #[serde(default, rename = $member)]
                value: Option<$ty>,
            }
            Ok(Option::<Outer>::deserialize(d)?.and_then(|o| o.value))
        }
    };
}
pub(crate) use nested;

/// `Default` for a listing filter with these optional criteria: none
/// set, pages of [`DEFAULT_PAGE_SIZE`](connections::DEFAULT_PAGE_SIZE),
/// a cap of [`DEFAULT_MAX_ITEMS`](connections::DEFAULT_MAX_ITEMS).
macro_rules! filter_default {
    ($filter:ident { $($criterion:ident),+ }) => {
        impl Default for $filter {
            fn default() -> Self {
                $filter {
                    $($criterion: None,)+
                    page_size: $crate::resources::connections::DEFAULT_PAGE_SIZE,
                    max_items: $crate::resources::connections::DEFAULT_MAX_ITEMS,
                }
            }
        }
    };
}
pub(crate) use filter_default;

/// `with_description`, `name` and `description` for a resource to
/// create, over its `name: String` and `description: Option<String>`.
macro_rules! name_and_description {
    ($new:ty) => {
        impl $new {
            /// Sets the description (shown in the Platform UI).
            pub fn with_description(mut self, description: impl Into<String>) -> Self {
                self.description = Some(description.into());
                self
            }

            /// The name.
            pub fn name(&self) -> &str {
                &self.name
            }

            /// The description, if set.
            pub fn description(&self) -> Option<&str> {
                self.description.as_deref()
            }
        }
    };
}
pub(crate) use name_and_description;

/// The name and the optional description every new resource has.
fn check_name_and_description(name: &str, description: Option<&str>) -> Result<(), Error> {
    check_name("name", name)?;
    description.map_or(Ok(()), |d| check_description("description", d))
}

/// A member whose `null` (or absence, with `#[serde(default)]`) means
/// its type's default: `"name": null` is the empty name.
fn or_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An id as the service sent it (checked by the reading call, not here).
fn service_id<'de, D: Deserializer<'de>, I: FromService>(d: D) -> Result<I, D::Error> {
    String::deserialize(d).map(I::from_service)
}

/// An optional id as the service sent it; `null` or missing is `None`.
fn maybe_service_id<'de, D: Deserializer<'de>, I: FromService>(
    d: D,
) -> Result<Option<I>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(I::from_service))
}

/// A spec reference's id (`connectionSpec.id`); `null` or missing is
/// `None`.
fn spec_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<SpecRef<'static>>::deserialize(d)?.and_then(SpecRef::into_id))
}

/// Text where an empty string means none (a description).
fn non_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
}

/// An id read by the lenient text rule ([`read::de::text`]), kept as the
/// service sent it: a number or another type is `None`.
fn text_id<'de, D: Deserializer<'de>, I: FromService>(d: D) -> Result<Option<I>, D::Error> {
    Ok(read::de::text(d)?.map(I::from_service))
}

/// A listed item's field against a filter's criterion: a match when the
/// criterion is unset, when they are equal, or when the item lacks the
/// field (the service may have matched on it and only left it out).
fn may_match<T: PartialEq>(criterion: &Option<T>, field: &Option<T>) -> bool {
    criterion
        .as_ref()
        .is_none_or(|c| field.as_ref().is_none_or(|f| f == c))
}

/// An answer (a success, 200) that was read but cannot be used, for
/// `detail`: a listed item that cannot be checked, a run that cannot be
/// placed.
fn unusable_answer(detail: String) -> Error {
    Error::UnexpectedResponse {
        status: 200,
        detail,
        request_id: None,
    }
}

// The client core (headers, retries, deadline, paging, errors, IMS tokens)
// driven through the resource calls, so they sit at the resources layer.
#[cfg(test)]
mod client_tests;
