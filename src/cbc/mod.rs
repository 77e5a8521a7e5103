//! Carbon Black Cloud REST client: typed requests and responses, retries, rate limiting.

pub mod client;
pub mod error;
pub mod lenient;
pub mod model;
pub mod poll;
pub mod ratelimit;
pub mod token;

pub use client::{Client, ClientConfig, RetryPolicy};
pub use error::ApiError;
pub use token::Token;
