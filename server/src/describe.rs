//! What a handler's own types say about its operation, for the API description: the
//! `JsonBody<T>` it takes is the request body, the `Json<T>` it answers is the response body, and
//! `Created` / `NoContent` are its success status. [`crate::api::Api`] reads them when a route
//! is registered, so the description cannot drift from the handler.

use crate::extract::{Created, JsonBody, NoContent};
use axum::body::Bytes;
use axum::response::Html;
use axum::Json;
use schemars::{JsonSchema, Schema, SchemaGenerator};

/// What a handler argument adds to its operation's description: only a JSON body has a
/// schema; the other extractors in use say nothing (the route's `Doc` describes the path and
/// query parameters and the access).
pub trait DescribeArg {
    /// The request body's schema, if this argument is the body.
    fn request(_: &mut SchemaGenerator) -> Option<Schema> {
        None
    }
}

impl<T: JsonSchema> DescribeArg for JsonBody<T> {
    fn request(g: &mut SchemaGenerator) -> Option<Schema> {
        Some(g.subschema_for::<T>())
    }
}

macro_rules! says_nothing {
    ($($ty:ty),* $(,)?) => { $(impl DescribeArg for $ty {})* };
}
says_nothing!(
    crate::extract::Caller,
    axum::http::HeaderMap,
    axum::http::request::Parts,
    Bytes,
    axum::body::Body,
    axum::extract::Request,
);
impl<T> DescribeArg for axum::extract::State<T> {}
impl<T: DescribeArg, E> DescribeArg for Result<T, E> {
    fn request(g: &mut SchemaGenerator) -> Option<Schema> {
        T::request(g)
    }
}
impl<T> DescribeArg for axum::extract::Path<T> {}
impl<T> DescribeArg for axum::extract::Query<T> {}

/// What a handler's return type says of its success: the status and the body's schema.
pub trait DescribeOutput {
    /// The success status.
    const STATUS: u16 = 200;
    /// The success body's schema, when it is JSON of a known type.
    fn response(_: &mut SchemaGenerator) -> Option<Schema> {
        None
    }
}

impl<T: JsonSchema> DescribeOutput for Json<T> {
    fn response(g: &mut SchemaGenerator) -> Option<Schema> {
        Some(g.subschema_for::<T>())
    }
}

impl<T: DescribeOutput, E> DescribeOutput for Result<T, E> {
    const STATUS: u16 = T::STATUS;
    fn response(g: &mut SchemaGenerator) -> Option<Schema> {
        T::response(g)
    }
}

impl<T: DescribeOutput> DescribeOutput for Created<T> {
    const STATUS: u16 = 201;
    fn response(g: &mut SchemaGenerator) -> Option<Schema> {
        T::response(g)
    }
}

impl DescribeOutput for NoContent {
    const STATUS: u16 = 204;
}

// Bodies that are not JSON of a known type (files, CSV, redirects, plain text).
impl DescribeOutput for axum::response::Response {}
impl DescribeOutput for &'static str {}
impl DescribeOutput for () {}
impl DescribeOutput for crate::mlflow::MlflowError {}
impl<T> DescribeOutput for Html<T> {}

/// A handler function, described by its argument and return types.
pub trait Describe<Args> {
    /// The request body's schema.
    fn request(g: &mut SchemaGenerator) -> Option<Schema>;
    /// The success body's schema.
    fn response(g: &mut SchemaGenerator) -> Option<Schema>;
    /// The success status.
    const STATUS: u16;
}

macro_rules! describe_fn {
    ($($arg:ident),*) => {
        impl<F, Fut, $($arg,)*> Describe<($($arg,)*)> for F
        where
            F: FnOnce($($arg,)*) -> Fut,
            Fut: std::future::Future,
            Fut::Output: DescribeOutput,
            $($arg: DescribeArg,)*
        {
            fn request(_g: &mut SchemaGenerator) -> Option<Schema> {
                None$(.or_else(|| $arg::request(_g)))*
            }
            fn response(g: &mut SchemaGenerator) -> Option<Schema> {
                <Fut::Output as DescribeOutput>::response(g)
            }
            const STATUS: u16 = <Fut::Output as DescribeOutput>::STATUS;
        }
    };
}
describe_fn!();
describe_fn!(A);
describe_fn!(A, B);
describe_fn!(A, B, C);
describe_fn!(A, B, C, D);
describe_fn!(A, B, C, D, E);
describe_fn!(A, B, C, D, E, G);
