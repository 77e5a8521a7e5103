//! Carbon Black Cloud REST client: typed requests and responses, retries, rate limiting.

pub mod lenient;
pub mod model;
pub mod token;

pub use token::Token;
