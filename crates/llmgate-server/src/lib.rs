//! llmgate gateway: composes the SDK with config, auth and the HTTP surface.

pub mod agents;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod config;
pub mod conn;
pub mod db_models;
pub mod deployments;
pub mod error;
pub mod governance;
pub mod guardrails;
pub mod mcp;
pub mod observe;
pub mod pyfmt;
pub mod router_sync;
pub mod routes;
pub mod salt;
pub mod server;
pub mod state;
pub mod ui;
