// SPDX-License-Identifier: MIT
#include <component/app/paced_sender.hpp>

#include <algorithm>

#include <component/app/redact.hpp>
#include <component/app/wall_clock.hpp>
#include <component/core/transparent_way.hpp>

namespace concierge::app {
namespace {

// A diverted message's release (transparent way): the extension answers it only once the
// server has taken the message or bounced it, so that answer confirms it, not a ping.
bool is_release_iq(const xmpp::Element& stanza) {
  return stanza.name == "iq" && core::TransparentWay::is_release_id(stanza.attr("id"));
}

}  // namespace

PacedSender::PacedSender(const config::Config& config, StreamSupervisor& stream, Logger& log)
    : config_(config), stream_(stream), log_(log) {}

void PacedSender::queue_release(core::Outbox::Release&& release) {
  if (releases_.empty()) next_release_ = Clock::now();
  releases_.push_back(std::move(release));
}

bool PacedSender::follow_releases(xmpp::Element& stanza) {
  if (!releasing_to(stanza.attr("to"))) return false;
  // Hold id 0: nothing to confirm in the store.
  releases_.push_back({0, std::move(stanza)});
  return true;
}

void PacedSender::queue_probes(std::vector<xmpp::Element>& probes) {
  if (probes.empty()) return;
  if (probes_.empty()) next_probe_ = Clock::now();
  for (auto& stanza : probes) probes_.push_back(std::move(stanza));
}

bool PacedSender::releasing_to(std::string_view to) const {
  if (releases_.empty()) return false;
  const auto bare = to.substr(0, to.find('/'));
  for (const auto& r : releases_) {
    const auto other = r.stanza.attr("to");
    if (other.substr(0, other.find('/')) == bare) return true;
  }
  return false;
}

void PacedSender::send_probes(Clock::time_point now,
                              const std::function<bool(std::size_t)>& refill) {
  if (!stream_.connected()) return;
  const auto gap = std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(1)) /
                   std::max(1, config_.presence.probe_rate);
  // Bounded burst: catch up at most a second's worth after a slow turn.
  int budget = std::max(1, config_.presence.probe_rate);
  // The core hands out the users' probes a second's worth at a time as the queue drains.
  if (probes_more_ && probes_.size() < static_cast<std::size_t>(budget)) {
    probes_more_ = refill(static_cast<std::size_t>(budget));
  }
  while (!probes_.empty() && now >= next_probe_ && budget-- > 0) {
    if (log_.enabled(LogLevel::debug)) log_.debug("out: " + redacted_xml(probes_.front()));
    stream_.connection().send(probes_.front());
    probes_.pop_front();
    next_probe_ += gap;
  }
  if (now - next_probe_ > std::chrono::seconds(1)) next_probe_ = now;
}

void PacedSender::send_releases(Clock::time_point now) {
  if (!stream_.connected() || releases_.empty()) return;
  const auto gap = std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(1)) /
                   std::max(1, config_.release.rate);
  std::vector<std::int64_t> batch;
  int budget = std::max(1, config_.release.rate);
  while (!releases_.empty() && now >= next_release_ && budget-- > 0) {
    if (log_.enabled(LogLevel::debug)) {
      log_.debug("out (release of hold " + std::to_string(releases_.front().hold_id) +
                 "): " + redacted_xml(releases_.front().stanza));
    }
    stream_.connection().send(releases_.front().stanza);
    if (releases_.front().hold_id == 0) {
      // Forwarded behind the releases (follow_releases).
      stream_.keep_forwarded(releases_.front().stanza, wall_now());
    } else if (!is_release_iq(releases_.front().stanza)) {
      batch.push_back(releases_.front().hold_id);
    }
    releases_.pop_front();
    next_release_ += gap;
  }
  if (now - next_release_ > std::chrono::seconds(1)) next_release_ = now;
  if (batch.empty()) return;
  // The stream is processed in order: the server's answer to this ping means it took every
  // message before it (DESIGN §6).
  const std::string id = "release-" + std::to_string(++release_ping_counter_);
  stream_.send_ping(id);
  release_pings_[id] = std::move(batch);
}

std::optional<std::vector<std::int64_t>> PacedSender::release_answered(const std::string& id) {
  auto it = release_pings_.find(id);
  if (it == release_pings_.end()) return std::nullopt;
  std::vector<std::int64_t> holds = std::move(it->second);
  release_pings_.erase(it);
  return holds;
}

void PacedSender::disconnected() {
  probes_.clear();
  probes_more_ = false;
  for (const auto& r : releases_) {
    if (r.hold_id == 0) stream_.keep_forwarded(r.stanza, wall_now());
  }
  drop_releases();
}

void PacedSender::drop_releases() {
  releases_.clear();
  release_pings_.clear();
}

std::optional<PacedSender::Clock::time_point> PacedSender::next_due() const {
  if (!stream_.connected()) return std::nullopt;
  std::optional<Clock::time_point> next;
  if (!probes_.empty()) next = next_probe_;
  if (!releases_.empty()) next = next ? std::min(*next, next_release_) : next_release_;
  return next;
}

}  // namespace concierge::app
