#include "gosl/form.hpp"

#include "gosl/text.hpp"

namespace gosl {

bool IsValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t length;
    unsigned char min_second = 0x80, max_second = 0xBF;  // RFC 3629 section 4 table
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) min_second = 0xA0;  // overlong
      if (c == 0xED) max_second = 0x9F;  // UTF-16 surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) min_second = 0x90;  // overlong
      if (c == 0xF4) max_second = 0x8F;  // above U+10FFFF
    } else {
      return false;  // continuation byte first, or C0/C1/F5..FF
    }
    if (static_cast<size_t>(end - p) < length) return false;
    if (p[1] < min_second || p[1] > max_second) return false;
    for (size_t i = 2; i < length; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
    }
    p += length;
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
