// SPDX-License-Identifier: MIT
namespace concierge::config { int config_anchor = 0; }
