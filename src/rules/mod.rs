//! DECISIONS, pure and unit-tested, one question per file: who may ask ([`trust`]), does a
//! database get a secret ([`eligibility`]), its value ([`secret_value`]), what an existing
//! secret needs ([`existing_secret`]), connection drift ([`drift`]), the sweep's plan
//! how a sweep spends its time ([`sweep_budget`]), which accounts an organization sweep
//! covers ([`sweep_places`]), how the hub's plan is sent ([`plan`]) and which replica secret a
//! promoted read replica's password comes from ([`promotion`]).

pub mod drift;
pub mod eligibility;
pub mod existing_secret;
pub mod plan;
pub mod promotion;
pub mod recreation;
pub mod secret_value;
pub mod sweep_budget;
pub mod sweep_places;
pub mod trust;
