//! Pure entry points for the fuzz targets in `fuzz/`; not part of the gateway's API.

use crate::routes::RouteTable;

/// The route a request to `host` (the `Host` header or `:authority`) and `path` goes to, among
/// `routes` given as (host, path prefix, strip prefix): its index in `routes` and the path sent
/// upstream. `None` when no route takes the request (answered 404).
pub fn route(
    routes: &[(Option<String>, String, bool)],
    host: Option<&str>,
    path: &str,
) -> Option<(usize, String)> {
    let table = RouteTable::new(
        routes
            .iter()
            .enumerate()
            .map(|(i, (h, p, strip))| (h.clone(), p.clone(), *strip, i)),
    );
    table
        .find(host, path)
        .map(|e| (e.value, e.upstream_path(path).to_owned()))
}
