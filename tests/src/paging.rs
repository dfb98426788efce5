//! Paging through a list as the generated client does it.

use std::{future::Future, num::NonZeroU64};

use uuid::Uuid;

/// `value` as the `limit` parameter of the generated client's list calls.
pub fn limit(value: u64) -> Option<NonZeroU64> {
    Some(NonZeroU64::new(value).expect("a non-zero limit"))
}

/// Whether every id is greater than the one before it.
pub fn is_strictly_increasing(ids: &[Uuid]) -> bool {
    ids.windows(2).all(|pair| pair[0] < pair[1])
}

/// Follows `next_cursor` from the first page to the last: `fetch` reads the
/// page at a cursor (`None`: the first) and gives its items and the next
/// cursor. Returns every page's items. A list whose pages go on past
/// `max_pages` fails the test instead of hanging it.
pub async fn follow_pages<T, F, Page>(max_pages: usize, mut fetch: F) -> Vec<Vec<T>>
where
    F: FnMut(Option<String>) -> Page,
    Page: Future<Output = (Vec<T>, Option<String>)>,
{
    let mut pages = Vec::new();
    let mut cursor = None;
    loop {
        let (items, next_cursor) = fetch(cursor.take()).await;
        pages.push(items);
        match next_cursor {
            Some(next) => cursor = Some(next),
            None => return pages,
        }
        assert!(pages.len() <= max_pages, "pagination does not end");
    }
}
