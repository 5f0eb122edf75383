// Small helpers shared by client.cc and server.cc (internal).
#pragma once

#include <string>

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>

#include "http/http.h"

namespace tl::http::detail {

// "connection refused", "timed out": an error code as a lower-case phrase.
std::string describe(const boost::beast::error_code& ec);

// True for the codes that only mean "the peer closed the connection".
bool is_closed_by_peer(const boost::beast::error_code& ec);

// Beast's fields → our Headers (repeated names joined with ", ", RFC 9110 §5.3).
template <class Fields>
Headers to_headers(const Fields& fields) {
  Headers out;
  for (const auto& field : fields) {
    std::string name(field.name_string().data(), field.name_string().size());
    std::string value(field.value().data(), field.value().size());
    auto [it, inserted] = out.emplace(std::move(name), value);
    if (!inserted) it->second += ", " + value;
  }
  return out;
}

}  // namespace tl::http::detail
