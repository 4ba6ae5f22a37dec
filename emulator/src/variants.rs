//! Settings for behaviours no Azure DevOps source decides (FIDELITY.md,
//! "Markers not established"): one value per plausible behaviour, the
//! default being the emulator's reading. `ADO_EMULATOR_VARIANTS`
//! (`name=value`, comma-separated) changes the defaults of every emulator a
//! process starts, so an end-to-end suite can run under each setting (CI
//! runs the connector's suites under the alternatives; `.ci/run`).

/// How `[System.Tags] CONTAINS 'x'` matches in WIQL: the Learn pages list
/// Contains for Tags without saying whether a tag must equal `x` or may
/// merely include it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TagMatch {
    /// A tag equal to `x`, without case (the emulator's reading).
    #[default]
    WholeTag,
    /// Any tag text that includes `x`.
    Substring,
}

/// Every unsettled behaviour with a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Variants {
    pub wiql_tags: TagMatch,
}

impl Variants {
    /// Parses `wiql-tags=whole|substring`; `Err` names what is wrong.
    pub fn parse(text: &str) -> Result<Variants, String> {
        let mut v = Variants::default();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item.split_once('=') {
                Some(("wiql-tags", "whole")) => v.wiql_tags = TagMatch::WholeTag,
                Some(("wiql-tags", "substring")) => v.wiql_tags = TagMatch::Substring,
                _ => {
                    return Err(format!(
                        "ADO_EMULATOR_VARIANTS: `{item}` is not one of wiql-tags=whole, wiql-tags=substring"
                    ));
                }
            }
        }
        Ok(v)
    }

    /// The defaults, as `ADO_EMULATOR_VARIANTS` changes them.
    ///
    /// # Panics
    /// On a value it does not know: a suite must not run silently under
    /// another setting than the one asked for.
    pub fn from_env() -> Variants {
        match std::env::var("ADO_EMULATOR_VARIANTS") {
            Ok(text) => Variants::parse(&text).unwrap_or_else(|e| panic!("{e}")),
            Err(_) => Variants::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_and_unknown_ones_are_refused_by_name() {
        assert_eq!(
            Variants::parse("wiql-tags=substring").unwrap().wiql_tags,
            TagMatch::Substring
        );
        assert_eq!(Variants::parse("").unwrap(), Variants::default());
        assert!(
            Variants::parse("wiql-tags=maybe")
                .unwrap_err()
                .contains("wiql-tags=maybe")
        );
    }
}
