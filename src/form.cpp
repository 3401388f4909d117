#include "gosl/form.hpp"

#include "gosl/text.hpp"

namespace gosl {

bool IsValidUtf8(std::string_view text) {
  for (size_t at = 0; at < text.size();) {
    const size_t length = Utf8CharLength(text, at);
    if (length == 0) return false;
    at += length;
  }
  return true;
}

Result<std::string> PercentDecode(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    char c = encoded[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      int high = i + 1 < encoded.size() ? HexDigitValue(encoded[i + 1]) : -1;
      int low = i + 2 < encoded.size() ? HexDigitValue(encoded[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return Status::InvalidArgument("bad %-escape at '" +
                                       Sanitized(encoded.substr(i, 3), 3) + "'");
      }
      out += static_cast<char>(high << 4 | low);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

Result<FormPairs> DecodeForm(std::string_view encoded) {
  FormPairs pairs;
  size_t start = 0;
  while (start <= encoded.size()) {
    size_t end = encoded.find('&', start);
    if (end == std::string_view::npos) end = encoded.size();
    std::string_view segment = encoded.substr(start, end - start);
    start = end + 1;
    if (segment.empty()) continue;

    size_t equals = segment.find('=');
    std::string_view raw_name = segment.substr(0, equals);
    std::string_view raw_value =
        equals == std::string_view::npos ? std::string_view() : segment.substr(equals + 1);

    auto name = PercentDecode(raw_name);
    if (!name.ok()) {
      return Status::InvalidArgument("parameter name '" + Sanitized(raw_name, 40) +
                                     "': " + name.status().message());
    }
    const std::string shown = Sanitized(name.value(), 40);
    if (!IsValidUtf8(name.value()) || name.value().find('\0') != std::string::npos) {
      return Status::InvalidArgument("parameter name '" + shown + "' is not valid UTF-8 text");
    }
    auto value = PercentDecode(raw_value);
    if (!value.ok()) {
      // The registration secret is never quoted back, not even in part.
      if (name.value() == "token") return Status::InvalidArgument("parameter 'token': bad %-escape");
      return Status::InvalidArgument("parameter '" + shown + "': " + value.status().message());
    }
    if (!IsValidUtf8(value.value())) {
      return Status::InvalidArgument("parameter '" + shown + "' is not valid UTF-8");
    }
    if (value.value().find('\0') != std::string::npos) {
      return Status::InvalidArgument("parameter '" + shown + "' contains a NUL byte");
    }
    pairs.emplace_back(std::move(name).value(), std::move(value).value());
  }
  return pairs;
}

}  // namespace gosl
