// SPDX-License-Identifier: MIT
namespace concierge::xmpp { int xmpp_anchor = 0; }
