//! What every call returns: the answer, the upstream's headers and where it went. Below both
//! the client and the providers, so neither imports the other for it.

/// An answer and what came with it.
#[derive(Debug)]
pub struct Response<T> {
    pub body: T,
    /// The upstream's response headers (empty for mocks).
    pub headers: Vec<(String, String)>,
    /// Where the call went.
    pub api_base: String,
}

impl<T> Response<T> {
    pub fn local(body: T) -> Self {
        Response {
            body,
            headers: Vec::new(),
            api_base: String::new(),
        }
    }
}
