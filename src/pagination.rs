//! Cursor pages, and walking every page lazily.

use crate::error::Result;
use serde::Deserialize;
use std::sync::Arc;

type Fetch<T> = Arc<dyn Fn(&str) -> Result<Page<T>> + Send + Sync>;

/// One page of a list: its items, and the cursor of the next page.
///
/// `auto_paging()` (or a `for` loop over the page) walks every item of every page, fetching the
/// next page only when the items of this one are used up, and stops at the first error.
///
/// ```no_run
/// # let client = managed_agents::Client::from_env()?;
/// for agent in client.agents().list(&Default::default())? {
///     let agent = agent?;
///     println!("{}", agent.id);
/// }
/// # Ok::<(), managed_agents::Error>(())
/// ```
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct Page<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// The cursor of the next page; `None` on the last page.
    #[serde(default)]
    pub next_page: Option<String>,
    #[serde(skip)]
    fetch: Option<Fetch<T>>,
}

impl<T: std::fmt::Debug> std::fmt::Debug for Page<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Page")
            .field("data", &self.data)
            .field("next_page", &self.next_page)
            .finish()
    }
}

impl<T> Page<T> {
    pub(crate) fn with_next(
        mut self,
        fetch: impl Fn(&str) -> Result<Page<T>> + Send + Sync + 'static,
    ) -> Self {
        self.fetch = Some(Arc::new(fetch));
        self
    }

    /// Returns whether there is a page after this one.
    pub fn has_next_page(&self) -> bool {
        self.next_page.as_deref().is_some_and(|c| !c.is_empty())
    }

    /// Fetches the next page, if there is one.
    pub fn get_next_page(&self) -> Result<Option<Page<T>>> {
        match (&self.next_page, &self.fetch) {
            (Some(cursor), Some(fetch)) if !cursor.is_empty() => fetch(cursor).map(Some),
            _ => Ok(None),
        }
    }

    /// Returns every item of this page and the pages after it, fetched as needed.
    pub fn auto_paging(self) -> AutoPaging<T> {
        AutoPaging {
            items: self.data.into_iter(),
            next_page: self.next_page,
            fetch: self.fetch,
            failed: false,
        }
    }
}

impl<T> IntoIterator for Page<T> {
    type Item = Result<T>;
    type IntoIter = AutoPaging<T>;
    fn into_iter(self) -> AutoPaging<T> {
        self.auto_paging()
    }
}

/// The iterator of [`Page::auto_paging`].
pub struct AutoPaging<T> {
    items: std::vec::IntoIter<T>,
    next_page: Option<String>,
    fetch: Option<Fetch<T>>,
    failed: bool,
}

impl<T> Iterator for AutoPaging<T> {
    type Item = Result<T>;
    fn next(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(item) = self.items.next() {
                return Some(Ok(item));
            }
            if self.failed {
                return None;
            }
            let cursor = self.next_page.take().filter(|c| !c.is_empty())?;
            let fetch = self.fetch.clone()?;
            match fetch(&cursor) {
                Ok(page) => {
                    self.items = page.data.into_iter();
                    self.next_page = page.next_page;
                }
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
    }
}
