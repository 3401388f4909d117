// The page for people with a browser: a request whose Accept header lists
// text/html itself (browsers' do; LSL's llHTTPRequest and curl's do not)
// and that asks no name or key gets a small HTML page with a lookup box,
// the status counts and a line saying what the service is. Submitting the
// box (a plain GET of q=, no JavaScript) answers on a page of the same kind.
// Self-contained (no request leaves for anything else), under a strict
// Content-Security-Policy, every piece of user text escaped. docs/api.md.
#pragma once

#include <string>
#include <string_view>

#include "gosl/parameters.hpp"
#include "gosl/response.hpp"
#include "gosl/service_status.hpp"
#include "gosl/store.hpp"

namespace gosl {

// True when accept names text/html itself (not only text/* or */*) with a
// quality above 0.
bool WantsHtmlPage(std::string_view accept);

// The page: with the answer to params.page_query when one was typed; the
// counts of status when given (null: status = off).
Response BrowserPage(const Parameters& params, Store& store, const ServiceStatus* status);

// text made safe inside HTML text and attribute values.
std::string HtmlEscaped(std::string_view text);

// The page's stylesheet, and its hash as the Content-Security-Policy names it.
std::string_view PageStyle();
inline constexpr std::string_view kPageStyleHash = "sha256-W7qGnMZzI1eryU3vjPmiaAvknY08KQ0AN4Agd0oToF0=";

}  // namespace gosl
