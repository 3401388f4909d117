#include "gosl/avatar_name.hpp"

#include "gosl/form.hpp"
#include "gosl/text.hpp"

namespace gosl {
namespace {

// A grid name is echoed in answers and logs: keep it one short line.
constexpr size_t kMaxGridBytes = 64;

constexpr std::string_view kResidentSuffix = " resident";

std::string CollapseSpaces(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == ' ') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

std::string LookupForm(std::string_view display) {
  if (size_t at = display.find('@'); at != std::string_view::npos) {
    display = display.substr(0, at);
    while (!display.empty() && display.back() == ' ') display.remove_suffix(1);
  }
  std::string lookup;
  lookup.reserve(display.size());
  // Only ASCII is folded: Second Life names are ASCII, and folding other
  // scripts would need a locale, which a static binary cannot rely on.
  for (char c : display) lookup += AsciiLower(c);

  // A username "first.last" (one dot, no space) is the legacy "first last".
  size_t dot = lookup.find('.');
  if (lookup.find(' ') == std::string::npos && dot != std::string::npos && dot > 0 &&
      dot + 1 < lookup.size() && lookup.find('.', dot + 1) == std::string::npos) {
    lookup[dot] = ' ';
  }
  // "first Resident" is the legacy name of the single-word username "first".
  if (lookup.size() > kResidentSuffix.size() &&
      lookup.compare(lookup.size() - kResidentSuffix.size(), kResidentSuffix.size(),
                     kResidentSuffix) == 0) {
    std::string_view first(lookup.data(), lookup.size() - kResidentSuffix.size());
    if (first.find(' ') == std::string_view::npos) lookup.resize(first.size());
  }
  return lookup;
}

Result<AvatarName> AvatarName::Parse(std::string_view text) {
  if (!IsValidUtf8(text)) return Status::InvalidArgument("name is not valid UTF-8");
  for (size_t i = 0; i < text.size(); ++i) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7F || (byte >= 0x80 && UnicodeControlAt(text, i) != 0)) {
      return Status::InvalidArgument("name contains a control character: '" + Sanitized(text, 40) +
                                     "'");
    }
  }
  std::string display = CollapseSpaces(text);
  std::string host;
  if (size_t at = display.find('@'); at != std::string::npos) {
    // OpenSimulator shows a visitor as "First.Last @home.grid:8002".
    host = CollapseSpaces(display.substr(at + 1));
    display = CollapseSpaces(display.substr(0, at));
    if (host.empty() || host.find_first_of(" @") != std::string::npos) {
      return Status::InvalidArgument("hypergrid name needs one host after '@': '" +
                                     Sanitized(text, 40) + "'");
    }
    if (host.size() > kMaxHostBytes) {
      return Status::InvalidArgument("hypergrid host is longer than " +
                                     std::to_string(kMaxHostBytes) + " bytes");
    }
    for (char& c : host) c = AsciiLower(c);
  }
  if (display.empty()) return Status::InvalidArgument("name is empty");
  if (display.size() > kMaxBytes) {
    return Status::InvalidArgument("name is longer than " + std::to_string(kMaxBytes) +
                                   " bytes: '" + Sanitized(display, 40) + "'");
  }
  std::string lookup = LookupForm(display);
  if (!host.empty()) display += " @" + host;
  return AvatarName(std::move(display), std::move(lookup), std::move(host));
}

Status CheckGridName(std::string_view grid, const char* what) {
  if (grid.size() > kMaxGridBytes || !IsValidUtf8(grid)) {
    return Status::InvalidArgument(std::string(what) + " is not a grid name of at most " +
                                   std::to_string(kMaxGridBytes) + " UTF-8 bytes");
  }
  for (size_t i = 0; i < grid.size(); ++i) {
    const auto byte = static_cast<unsigned char>(grid[i]);
    if (byte < 0x20 || byte == 0x7F || (byte >= 0x80 && UnicodeControlAt(grid, i) != 0)) {
      return Status::InvalidArgument(std::string(what) + " contains a control character");
    }
  }
  return Status::OK();
}

}  // namespace gosl
