// SPDX-License-Identifier: MIT
namespace concierge::app { int app_anchor = 0; }
