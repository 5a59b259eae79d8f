// SPDX-License-Identifier: MIT
// Registration: enrolment by XEP-0077 in-band registration and XEP-0100's jabber:iq:gateway on
// the component's bare JID (DESIGN §4); and which calendar URLs a user may give.
#include <algorithm>

#include <component/core/registration.hpp>
#include <component/core/service_info.hpp>
#include <component/core/text.hpp>
#include <ical/zone.hpp>

namespace concierge::core {
namespace {

constexpr std::string_view kRegister = "jabber:iq:register";
constexpr std::string_view kGateway = "jabber:iq:gateway";
constexpr std::string_view kData = "jabber:x:data";
constexpr std::size_t kMaxUrlBytes = 2048;

xmpp::Element field(std::string var, std::string type, std::string label, std::string value,
                    bool required) {
  xmpp::Element f = xmpp::make(
      "field", {{"var", std::move(var)}, {"type", std::move(type)}, {"label", std::move(label)}});
  if (required) f.add_child(xmpp::Element("required"));
  if (!value.empty()) f.add_child(xmpp::make_text("value", std::move(value)));
  return f;
}

// The value of a submitted data form field; "" when absent.
std::string form_value(const xmpp::Element& form, std::string_view var) {
  for (const auto& f : form.children) {
    if (f.name == "field" && f.attr("var") == var) return f.child_text("value").value_or("");
  }
  return {};
}

// A user may give a schedule only as an https URL (webcal is https); plain http only where
// the admin allows private URLs (tests, intranets). DESIGN §11.
}  // namespace

std::optional<std::string> check_calendar_url(const std::string& url, bool allow_http) {
  if (url.empty()) return std::nullopt;
  if (url.size() > kMaxUrlBytes) return "The calendar URL is too long.";
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) return "The calendar URL contains spaces or control characters.";
  }
  std::string scheme = lower(url.substr(0, url.find("://")));
  if (url.find("://") == std::string::npos) scheme.clear();
  if (scheme == "https" || scheme == "webcal") {
    if (url.size() <= scheme.size() + 3) return "The calendar URL has no host.";
    return std::nullopt;
  }
  if (scheme == "http" && allow_http) return std::nullopt;
  return "The calendar must be an https:// (or webcal://) URL.";
}

bool Registration::handle(const xmpp::Element& stanza, const xmpp::Jid& from, Instant now,
                          Outbox& out) {
  const xmpp::Element* query = nullptr;
  for (const auto& c : stanza.children) {
    if (c.name == "query" && (c.attr("xmlns") == kRegister || c.attr("xmlns") == kGateway)) {
      query = &c;
      break;
    }
  }
  if (!query) return false;
  if (!actions_.served(from) || !from.has_local()) {
    refuse(stanza, Refusal::sender_not_served,
           "Concierge serves only users of its own server's domains.", out);
    return true;
  }
  const bool get = stanza.attr("type") == "get";
  const std::string bare = lower(from.bare_string());

  if (query->attr("xmlns") == kGateway) {
    gateway(stanza, *query, out);
    return true;
  }
  const bool by_config = directory_.by_config(bare);
  const Enrolment* self = directory_.enrolment(bare);
  if (get) {
    form(stanza, bare, out);
    return true;
  }

  // set: <remove/> unenrols; a submitted form enrols or updates.
  if (query->child("remove")) {
    if (by_config) {
      refuse(stanza, Refusal::feature_not_implemented,
             "You are enrolled by your admin: ask them to remove you.", out);
      return true;
    }
    if (!self) {
      refuse(stanza, Refusal::target_not_enrolled, "You are not enrolled.", out);
      return true;
    }
    ++stats_.answered;
    out.send(iq_result(stanza));
    actions_.unenrol(bare, out);
    return true;
  }
  const xmpp::Element* form = query->child("x", kData);
  if (!form || form->attr("type") != "submit") {
    refuse(stanza, Refusal::bad_request,
           "Submit the registration form (XEP-0004) with your time zone.", out);
    return true;
  }
  if (by_config) {
    refuse(stanza, Refusal::feature_not_implemented,
           "You are enrolled by your admin: these settings are set by your admin.", out);
    return true;
  }
  const std::string timezone = trim(form_value(*form, "timezone"));
  const std::string url = trim(form_value(*form, "calendar_url"));
  if (!ical::is_valid_zone(timezone)) {
    refuse(stanza, Refusal::bad_request,
           timezone.empty() ? "Give your time zone, e.g. Europe/Berlin."
                            : "Unknown time zone \"" + timezone.substr(0, 64) +
                                  "\": use an IANA name such as Europe/Berlin.",
           out);
    return true;
  }
  if (auto problem = check_calendar_url(url, settings_.allow_private_urls)) {
    refuse(stanza, Refusal::bad_request, *problem, out);
    return true;
  }
  ++stats_.answered;
  out.send(iq_result(stanza));
  actions_.enrol(bare, timezone, std::optional<std::string>(url), now, out);
  return true;
}

void Registration::gateway(const xmpp::Element& stanza, const xmpp::Element& query, Outbox& out) {
  const bool get = stanza.attr("type") == "get";
  xmpp::Element reply = iq_result(stanza);
  xmpp::Element q = xmpp::make("query", {{"xmlns", std::string(kGateway)}});
  if (get) {
    q.add_child(xmpp::make_text(
        "desc", "Enter the address of the person you want to reach through Concierge."));
    q.add_child(xmpp::make_text("prompt", "Address (user@domain)"));
  } else {
    auto jid = xmpp::Jid::parse(trim(query.child_text("prompt").value_or("")));
    auto proxy = jid && jid->has_local() && !jid->has_resource()
                     ? xmpp::proxy_jid(*jid, settings_.component_domain)
                     : std::nullopt;
    if (!proxy) {
      refuse(stanza, Refusal::not_a_proxy, "That is not an address of the form user@domain.", out);
      return;
    }
    q.add_child(xmpp::make_text("jid", proxy->bare_string()));
  }
  reply.add_child(std::move(q));
  ++stats_.answered;
  out.send(std::move(reply));
}

void Registration::form(const xmpp::Element& stanza, const std::string& bare, Outbox& out) const {
  const bool by_config = directory_.by_config(bare);
  const Enrolment* self = directory_.enrolment(bare);
  xmpp::Element reply = iq_result(stanza);
  xmpp::Element q = xmpp::make("query", {{"xmlns", std::string(kRegister)}});
  std::string timezone = self ? self->timezone : "";
  std::string url = self ? self->calendar_url : "";
  if (by_config || self) q.add_child(xmpp::Element("registered"));
  q.add_child(xmpp::make_text(
      "instructions",
      by_config ? "You are enrolled by your admin; your settings are in the server's config."
                : "Enrol with Concierge: give your time zone (e.g. Europe/Berlin) and, if you "
                  "like, the https URL of your work calendar (.ics)."));
  xmpp::Element form = xmpp::make("x", {{"xmlns", std::string(kData)}, {"type", "form"}});
  form.add_child(xmpp::make_text("title", "Enrol with Concierge"));
  form.add_child(field("FORM_TYPE", "hidden", "", std::string(kRegister), false));
  form.add_child(
      field("timezone", "text-single", "Time zone (IANA, e.g. Europe/Berlin)", timezone, true));
  form.add_child(
      field("calendar_url", "text-single", "Work calendar (https URL of an .ics)", url, false));
  q.add_child(std::move(form));
  reply.add_child(std::move(q));
  ++stats_.answered;
  out.send(std::move(reply));
}

void Registration::refuse(const xmpp::Element& stanza, Refusal refusal, const std::string& text,
                          Outbox& out) {
  ++stats_.refused;
  out.send(make_error_reply(stanza, refusal, text));
}

}  // namespace concierge::core
