//! What the plugin keeps in the host's key-value store (`Env::store_get`)
//! is JSON text, and parsing it again at every call was a measurable share
//! of a dispatch: a work item type's schema is tens of kilobytes. This keeps
//! the last value parsed from each key for the life of the instance, and
//! uses it only while the store returns the very same text, so the store
//! stays the one truth (expiry, invalidation, another instance's write all
//! show as different text or none).

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde::de::DeserializeOwned;

/// Keys remembered at once; past this the memo starts again empty (an
/// instance serves one organization and a few work item types).
const CAPACITY: usize = 32;

/// What a key held when it was parsed, and the value parsed from it.
type Parsed = (String, Rc<dyn Any>);

thread_local! {
    static MEMO: RefCell<HashMap<String, Parsed>> = RefCell::new(HashMap::new());
}

/// `text` (what the store holds under `key`) parsed as a `T`: the value
/// parsed earlier from the same key and the same text, else a new parse;
/// `None` when the text is not a `T`.
pub fn parsed<T: DeserializeOwned + 'static>(key: &str, text: String) -> Option<Rc<T>> {
    let known = MEMO.with_borrow(|memo| {
        memo.get(key)
            .filter(|(seen, _)| *seen == text)
            .and_then(|(_, value)| value.clone().downcast::<T>().ok())
    });
    if known.is_some() {
        return known;
    }
    let value: Rc<T> = Rc::new(serde_json::from_str(&text).ok()?);
    MEMO.with_borrow_mut(|memo| {
        if memo.len() >= CAPACITY && !memo.contains_key(key) {
            memo.clear();
        }
        memo.insert(key.to_string(), (text, value.clone() as Rc<dyn Any>));
    });
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Thing {
        n: u32,
    }

    #[test]
    fn the_same_text_gives_the_value_parsed_before() {
        let a: Rc<Thing> = parsed("memo-test-same", r#"{"n": 1}"#.into()).unwrap();
        let b: Rc<Thing> = parsed("memo-test-same", r#"{"n": 1}"#.into()).unwrap();
        assert!(Rc::ptr_eq(&a, &b), "parsed once");
    }

    #[test]
    fn other_text_under_the_same_key_is_parsed_again() {
        let a: Rc<Thing> = parsed("memo-test-changed", r#"{"n": 1}"#.into()).unwrap();
        let b: Rc<Thing> = parsed("memo-test-changed", r#"{"n": 2}"#.into()).unwrap();
        assert_eq!((a.n, b.n), (1, 2));
    }

    #[test]
    fn text_that_is_not_the_type_gives_none_and_forgets_nothing_it_should_not() {
        let a: Option<Rc<Thing>> = parsed("memo-test-bad", r#"{"n": "x"}"#.into());
        assert!(a.is_none());
        let b: Rc<Thing> = parsed("memo-test-bad", r#"{"n": 3}"#.into()).unwrap();
        assert_eq!(b.n, 3);
    }

    #[test]
    fn a_key_read_as_another_type_is_parsed_as_that_type() {
        #[derive(serde::Deserialize)]
        struct Other {
            n: String,
        }
        let _: Rc<Thing> = parsed("memo-test-types", r#"{"n": 4}"#.into()).unwrap();
        let other: Option<Rc<Other>> = parsed("memo-test-types", r#"{"n": 4}"#.into());
        assert!(
            other.map(|o| o.n.clone()).is_none(),
            "4 is not a string: parsed again, not taken from the memo"
        );
    }
}
