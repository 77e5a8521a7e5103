//! Criteria and query matching. (Stub: being written.)
