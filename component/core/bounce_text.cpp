// SPDX-License-Identifier: MIT
#include <component/core/bounce_text.hpp>

namespace concierge::core {

// At most `max` code points of `text` on one line, with "…" when cut.
std::string shortened(std::string_view text, std::size_t max) {
  std::string out;
  std::size_t points = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80 && points++ == max) {
      while (!out.empty() && out.back() == ' ') out.pop_back();
      return out + "…";
    }
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : static_cast<char>(c);
  }
  return out;
}

// "Concierge: your message to bob@… could not be delivered: <why> You wrote: “text”." —
// quoting each returned message, shortened (DESIGN §2: a target who unenrols gets their holds
// bounced to the senders with a notice).
std::string bounce_text(const std::string& who, const std::string& why,
                        const std::vector<std::string>& bodies) {
  constexpr std::size_t kQuoted = 5, kQuoteLength = 60;
  const std::size_t n = bodies.size();
  std::string text = (n == 1 ? "Concierge: your message to " + who
                             : "Concierge: your " + std::to_string(n) + " messages to " + who) +
                     " could not be delivered: " + why + " You wrote: ";
  for (std::size_t i = 0; i < n && i < kQuoted; ++i) {
    text += (i ? ", “" : "“") + shortened(bodies[i], kQuoteLength) + "”";
  }
  if (n > kQuoted) text += " and " + std::to_string(n - kQuoted) + " more";
  return text + ".";
}

}  // namespace concierge::core
