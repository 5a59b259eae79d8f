// SPDX-License-Identifier: MIT
// Anchor so the support library always has a translation unit.
namespace concierge::testing {
int support_anchor = 0;
}
