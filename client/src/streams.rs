//! Lists as streams of items: each walks a list to its end a page at a time,
//! following `next_cursor`, so a caller never handles cursors. progenitor's
//! own pagination needs dropshot's page shape (`items`, `next_page`), which
//! is not the API's (`apps`, `next_cursor`), hence these few by hand.

use std::{future::Future, num::NonZeroU64};

use futures_util::{Stream, TryStreamExt, stream};

use crate::{Client, Error, types};

/// What a failed page fetch gives: the same error the list methods return.
pub type ListError = Error<types::ErrorBody>;

/// Filters of `apps_stream`, all optional.
#[derive(Clone, Copy, Debug, Default)]
pub struct AppFilter {
    pub environment: Option<types::Environment>,
    pub status: Option<types::AppStatus>,
}

impl Client {
    /// Every app of the caller's organization that `filter` selects, oldest
    /// first, fetched `page_size` at a time (the server's default when `None`).
    pub fn apps_stream(
        &self,
        filter: AppFilter,
        page_size: Option<NonZeroU64>,
    ) -> impl Stream<Item = Result<types::App, ListError>> + Unpin + '_ {
        walk(move |cursor: Option<types::ListAppsCursor>| async move {
            let page = self.list_apps(cursor.as_ref(), filter.environment, page_size, filter.status).await?;
            let page = page.into_inner();
            Ok((page.apps, next(page.next_cursor)?))
        })
    }

    /// Every API token of the caller's organization (admin tokens only),
    /// fetched `page_size` at a time.
    pub fn api_tokens_stream(
        &self,
        page_size: Option<NonZeroU64>,
    ) -> impl Stream<Item = Result<types::Token, ListError>> + Unpin + '_ {
        walk(move |cursor: Option<types::ListApiTokensCursor>| async move {
            let page = self.list_api_tokens(cursor.as_ref(), page_size).await?.into_inner();
            Ok((page.tokens, next(page.next_cursor)?))
        })
    }
}

/// The next page's cursor, typed as the list parameter that takes it.
// The error is the generated methods' own, as large as there.
#[allow(clippy::result_large_err)]
fn next<C: std::str::FromStr>(next_cursor: Option<String>) -> Result<Option<C>, ListError> {
    next_cursor
        .map(|cursor| {
            cursor.parse().map_err(|_| Error::Custom(format!("the server returned a malformed cursor `{cursor}`")))
        })
        .transpose()
}

/// Items from `fetch_page(cursor)` until a page comes back without a next
/// cursor. An error ends the stream after it is yielded.
fn walk<'a, T, C, F, Fut>(mut fetch_page: F) -> impl Stream<Item = Result<T, ListError>> + Unpin + 'a
where
    T: 'a,
    C: 'a,
    F: FnMut(Option<C>) -> Fut + 'a,
    Fut: Future<Output = Result<(Vec<T>, Option<C>), ListError>> + 'a,
{
    // `None` once the last page is in; `Some(cursor)` before each fetch.
    let pages = stream::try_unfold(Some(None), move |state: Option<Option<C>>| {
        let page = state.map(&mut fetch_page);
        async move {
            let Some(page) = page else { return Ok::<_, ListError>(None) };
            let (items, next_cursor) = page.await?;
            let state = next_cursor.map(Some);
            Ok(Some((stream::iter(items.into_iter().map(Ok)), state)))
        }
    });
    Box::pin(pages.try_flatten())
}
