//! End-to-end tests: the real server, driven through the generated client.

mod smoke;
