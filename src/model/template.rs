//! `{placeholder}` templates for secret names, parameter names and descriptions.
//!
//! Templates are parsed once at init so that an unknown placeholder is a configuration error
//! before the first event, not a failure on every invocation.

use std::fmt;

use crate::model::{Place, Service};

/// The values a template can refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `rds`, `docdb`, `redshift` or `redshift-serverless`.
    Service,
    /// The database identifier (instance, cluster or workgroup name).
    Identifier,
    /// The database user the secret is for.
    Username,
    /// The secret's `engine` value (`mysql`, `postgres`, ...).
    Engine,
    Region,
    Account,
}

impl Field {
    const ALL: [(&'static str, Field); 6] = [
        ("service", Field::Service),
        ("identifier", Field::Identifier),
        ("username", Field::Username),
        ("engine", Field::Engine),
        ("region", Field::Region),
        ("account", Field::Account),
    ];

    fn name(self) -> &'static str {
        Field::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
}

/// Values for the placeholders. A `None` field is not known (yet): rendering a template that
/// needs it yields `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub service: Option<String>,
    pub identifier: Option<String>,
    pub username: Option<String>,
    pub engine: Option<String>,
    pub region: Option<String>,
    pub account: Option<String>,
}

impl Facts {
    /// The one place facts are assembled: what is known of the database and user so far.
    pub fn of(
        service: Service,
        identifier: &str,
        username: Option<&str>,
        engine: Option<&str>,
        place: &Place,
    ) -> Facts {
        Facts {
            service: Some(service.as_str().to_string()),
            identifier: Some(identifier.to_string()),
            username: username.map(str::to_string),
            engine: engine.map(str::to_string),
            region: Some(place.region.clone()),
            account: Some(place.account.clone()),
        }
    }

    fn get(&self, field: Field) -> Option<&str> {
        match field {
            Field::Service => self.service.as_deref(),
            Field::Identifier => self.identifier.as_deref(),
            Field::Username => self.username.as_deref(),
            Field::Engine => self.engine.as_deref(),
            Field::Region => self.region.as_deref(),
            Field::Account => self.account.as_deref(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Value(Field),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// Why a template could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Template {
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find(['{', '}']) {
            if rest.as_bytes()[open] == b'}' {
                return Err(TemplateError(format!(
                    "unmatched '}}' at byte {}",
                    text.len() - rest.len() + open
                )));
            }
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or_else(|| {
                TemplateError(format!(
                    "unclosed '{{' at byte {}",
                    text.len() - rest.len() + open
                ))
            })?;
            let name = &after[..close];
            let field = Field::ALL
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, f)| *f)
                .ok_or_else(|| {
                    let known: Vec<String> =
                        Field::ALL.iter().map(|(n, _)| format!("{{{n}}}")).collect();
                    TemplateError(format!(
                        "unknown placeholder {{{name}}} (known: {})",
                        known.join(", ")
                    ))
                })?;
            parts.push(Part::Value(field));
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        if parts.is_empty() {
            return Err(TemplateError("the template is empty".into()));
        }
        Ok(Template { parts })
    }

    /// Whether the template refers to `field`.
    pub fn uses(&self, field: Field) -> bool {
        self.parts.contains(&Part::Value(field))
    }

    /// The fixed text before the first placeholder (empty if the template starts with one).
    pub fn literal_prefix(&self) -> &str {
        match self.parts.first() {
            Some(Part::Text(t)) => t,
            _ => "",
        }
    }

    /// Whether `field` is used, and every use is a whole `/`-separated segment: `/{field}/` or
    /// `/{field}` at the end. A value then stands alone between slashes, so two different
    /// (identifier, username) pairs can never render the same name.
    pub fn is_whole_segment(&self, field: Field) -> bool {
        let mut used = false;
        for (i, part) in self.parts.iter().enumerate() {
            if *part != Part::Value(field) {
                continue;
            }
            used = true;
            let before = i.checked_sub(1).and_then(|j| self.parts.get(j));
            let after = self.parts.get(i + 1);
            let opens = matches!(before, Some(Part::Text(t)) if t.ends_with('/'));
            let closes = match after {
                None => true,
                Some(Part::Text(t)) => t.starts_with('/'),
                Some(Part::Value(_)) => false,
            };
            if !(opens && closes) {
                return false;
            }
        }
        used
    }

    /// For a template ending in `/{field}`, the template of its parent path (no trailing `/`):
    /// `/db-secrets/{service}/{identifier}/{username}` → `/db-secrets/{service}/{identifier}`.
    pub fn parent_of_last(&self, field: Field) -> Option<Template> {
        let (Part::Value(last), rest) = self.parts.split_last()? else {
            return None;
        };
        let (Part::Text(text), before) = rest.split_last()? else {
            return None;
        };
        if *last != field || !text.ends_with('/') {
            return None;
        }
        let mut parts = before.to_vec();
        let trimmed = text.trim_end_matches('/');
        if !trimmed.is_empty() {
            parts.push(Part::Text(trimmed.to_string()));
        }
        (!parts.is_empty()).then_some(Template { parts })
    }

    /// Renders the template, or `None` if a field it uses is not known.
    pub fn render(&self, facts: &Facts) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Value(f) => out.push_str(facts.get(*f)?),
            }
        }
        Some(out)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                Part::Text(t) => f.write_str(t)?,
                Part::Value(field) => write!(f, "{{{}}}", field.name())?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            service: Some("rds".into()),
            identifier: Some("orders-db".into()),
            username: Some("admin".into()),
            engine: Some("postgres".into()),
            region: Some("eu-west-1".into()),
            account: Some("123456789012".into()),
        }
    }

    #[test]
    fn renders_every_placeholder() {
        let t = Template::parse("{account}/{region}/{service}/{engine}/{identifier}/{username}")
            .unwrap();
        assert_eq!(
            t.render(&facts()).unwrap(),
            "123456789012/eu-west-1/rds/postgres/orders-db/admin"
        );
        assert_eq!(
            t.to_string(),
            "{account}/{region}/{service}/{engine}/{identifier}/{username}"
        );
    }

    #[test]
    fn plain_text_and_adjacent_placeholders() {
        assert_eq!(
            Template::parse("static").unwrap().render(&Facts::default()),
            Some("static".into())
        );
        let t = Template::parse("{service}{identifier}").unwrap();
        assert_eq!(t.render(&facts()).unwrap(), "rdsorders-db");
    }

    #[test]
    fn missing_fact_renders_none() {
        let t = Template::parse("/db/{identifier}/{username}").unwrap();
        let mut f = facts();
        f.username = None;
        assert_eq!(t.render(&f), None);
        assert!(t.uses(Field::Username));
        assert!(!t.uses(Field::Engine));
    }

    #[test]
    fn parent_of_a_trailing_placeholder() {
        let t = Template::parse("/db-secrets/{service}/{identifier}/{username}").unwrap();
        let parent = t.parent_of_last(Field::Username).unwrap();
        assert_eq!(parent.to_string(), "/db-secrets/{service}/{identifier}");
        assert_eq!(
            parent.render(&facts()).unwrap(),
            "/db-secrets/rds/orders-db"
        );
        for text in [
            "/db/{username}/{identifier}",
            "/db/{identifier}-{username}",
            "{username}",
            "/db/{identifier}/{engine}",
        ] {
            assert_eq!(
                Template::parse(text)
                    .unwrap()
                    .parent_of_last(Field::Username),
                None,
                "{text}"
            );
        }
    }

    #[test]
    fn literal_prefix_and_whole_segments() {
        let t = Template::parse("db-secrets/{service}/{identifier}/{username}").unwrap();
        assert_eq!(t.literal_prefix(), "db-secrets/");
        assert!(t.is_whole_segment(Field::Identifier) && t.is_whole_segment(Field::Username));
        let t = Template::parse("/p/{identifier}-{username}/x").unwrap();
        assert!(!t.is_whole_segment(Field::Identifier));
        assert!(!t.is_whole_segment(Field::Username));
        let t = Template::parse("/p/{identifier}/{username}x").unwrap();
        assert!(t.is_whole_segment(Field::Identifier) && !t.is_whole_segment(Field::Username));
        let t = Template::parse("{identifier}/{username}").unwrap();
        assert_eq!(t.literal_prefix(), "");
        assert!(!t.is_whole_segment(Field::Identifier), "nothing before it");
        assert!(!Template::parse("/p/{identifier}")
            .unwrap()
            .is_whole_segment(Field::Username));
    }

    #[test]
    fn rejects_bad_templates() {
        for (text, needle) in [
            ("db/{hostname}", "unknown placeholder {hostname}"),
            ("db/{identifier", "unclosed"),
            ("db/identifier}", "unmatched"),
            ("db/{}", "unknown placeholder {}"),
            ("", "empty"),
        ] {
            let err = Template::parse(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }
}
