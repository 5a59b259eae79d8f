// SPDX-License-Identifier: MIT
namespace concierge::core { int core_anchor = 0; }
