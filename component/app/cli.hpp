// SPDX-License-Identifier: MIT
#pragma once

#include <ostream>

namespace concierge::app {

// The command line of DESIGN §12: --config, --check-config, schedule, --version, --help.
// Returns the process exit code (2 for unusable input, with the reason on `err`).
int run_cli(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace concierge::app
