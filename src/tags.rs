//! The tags the function puts on its secrets, and what an existing secret's tags say about it
//! (pure).

/// The tag every secret this function creates carries. Nothing is ever changed on a secret
/// without it.
pub const MANAGED_TAG_KEY: &str = "managed-by";
pub const MANAGED_TAG_VALUE: &str = "db-secret-provisioner";

/// Whether `tags` carry the managed-by tag.
pub fn is_managed<'a>(mut tags: impl Iterator<Item = (&'a str, &'a str)>) -> bool {
    tags.any(|(k, v)| k == MANAGED_TAG_KEY && v == MANAGED_TAG_VALUE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_by_is_recognised() {
        assert!(is_managed(
            [("team", "x"), (MANAGED_TAG_KEY, MANAGED_TAG_VALUE)].into_iter()
        ));
        assert!(!is_managed([(MANAGED_TAG_KEY, "someone-else")].into_iter()));
    }
}
