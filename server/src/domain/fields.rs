//! serde helpers that keep "absent", "null" and "a value" apart in request
//! bodies, which a plain `Option` folds together.

use serde::{Deserialize, Deserializer};

/// A field that may be absent but, when present, must not be null.
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// A nullable field that may also be absent: `Some(None)` is an explicit null.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}
