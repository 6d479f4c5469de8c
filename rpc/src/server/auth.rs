//! Bearer-token check for the WebSocket server: an HTTP middleware (tower layer) that answers
//! `401 Unauthorized` to any request whose `Authorization` header is not `Bearer <token>`, before
//! the WebSocket upgrade. Without a token it lets everything through.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use jsonrpsee::core::BoxError;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use tower::{Layer, Service};

/// Requires `Authorization: Bearer <token>` when a token is set.
#[derive(Clone, Debug, Default)]
pub struct BearerAuthLayer {
    token: Option<Arc<str>>,
}

impl BearerAuthLayer {
    /// A layer that requires `token` (or nothing, for `None`).
    pub fn new(token: Option<String>) -> Self {
        Self {
            token: token.map(Arc::from),
        }
    }
}

impl<S> Layer<S> for BearerAuthLayer {
    type Service = BearerAuth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BearerAuth {
            inner,
            token: self.token.clone(),
        }
    }
}

/// The service [`BearerAuthLayer`] wraps around the server.
#[derive(Clone, Debug)]
pub struct BearerAuth<S> {
    inner: S,
    token: Option<Arc<str>>,
}

/// Compares without stopping at the first difference, so timing says nothing about the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authorized(token: &str, request: &HttpRequest) -> bool {
    request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| same(given.trim().as_bytes(), token.as_bytes()))
}

fn unauthorized() -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::from(
        "missing or wrong bearer token: send `Authorization: Bearer <token>`\n",
    ));
    *response.status_mut() = http::StatusCode::UNAUTHORIZED;
    response
}

impl<S> Service<HttpRequest> for BearerAuth<S>
where
    S: Service<HttpRequest, Response = HttpResponse>,
    S::Error: Into<BoxError> + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: HttpRequest) -> Self::Future {
        if let Some(token) = &self.token {
            if !authorized(token, &request) {
                tracing::info!("rejected a connection without the right bearer token");
                return Box::pin(async { Ok(unauthorized()) });
            }
        }
        let future = self.inner.call(request);
        Box::pin(async move { future.await.map_err(Into::into) })
    }
}
