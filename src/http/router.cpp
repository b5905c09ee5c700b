// HttpRouter: exact paths first, then the longest prefix; GET routes answer HEAD too (the
// connection drops the body). Routes are few, so a linear scan beats a map's hashing here.
#include <tiny_coro/http_server.h>

namespace tiny_coro {

HttpRouter::HttpRouter() : self_([this](HttpExchange& exchange) { return (*this)(exchange); }) {}

HttpRouter& HttpRouter::add(std::string method, std::string path, HttpHandler handler) {
  routes_.push_back({std::move(method), std::move(path), false, std::move(handler)});
  return *this;
}

HttpRouter& HttpRouter::add_prefix(std::string method, std::string prefix, HttpHandler handler) {
  routes_.push_back({std::move(method), std::move(prefix), true, std::move(handler)});
  return *this;
}

HttpRouter& HttpRouter::get(std::string path, HttpHandler handler) {
  return add("GET", std::move(path), std::move(handler));
}

HttpRouter& HttpRouter::post(std::string path, HttpHandler handler) {
  return add("POST", std::move(path), std::move(handler));
}

HttpRouter& HttpRouter::put(std::string path, HttpHandler handler) {
  return add("PUT", std::move(path), std::move(handler));
}

const HttpRouter::Route* HttpRouter::find(std::string_view method, std::string_view path,
                                          bool& path_known) const {
  const Route* best = nullptr;
  path_known = false;
  for (const Route& route : routes_) {
    const bool matches = route.prefix ? path.starts_with(route.path) : path == route.path;
    if (!matches) continue;
    path_known = true;
    const bool method_matches =
        route.method == method || (method == "HEAD" && route.method == "GET");
    if (!method_matches) continue;
    if (!route.prefix) return &route;  // exact beats any prefix
    if (best == nullptr || route.path.size() > best->path.size()) best = &route;
  }
  return best;
}

Task<HttpResponse> HttpRouter::operator()(HttpExchange& exchange) const {
  bool path_known = false;
  const Route* route = find(exchange.request().method, exchange.path(), path_known);
  if (route == nullptr) {
    co_return HttpResponse::text(path_known ? 405 : 404,
                                 std::string(http_reason_phrase(path_known ? 405 : 404)) + "\n");
  }
  co_return co_await route->handler(exchange);
}

}  // namespace tiny_coro
