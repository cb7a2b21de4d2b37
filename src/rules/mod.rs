//! DECISIONS, pure and unit-tested, one question per file: who may ask ([`trust`]), does a
//! database get a secret ([`eligibility`]), its value ([`secret_value`]), what an existing
//! secret needs ([`existing_secret`]), connection drift ([`drift`]), the sweep's plan
//! and how a sweep spends its time ([`sweep_budget`]).

pub mod drift;
pub mod eligibility;
pub mod existing_secret;
pub mod recreation;
pub mod secret_value;
pub mod sweep_budget;
pub mod trust;
