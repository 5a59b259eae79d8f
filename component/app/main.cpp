// SPDX-License-Identifier: MIT
#include <iostream>

#include <component/app/cli.hpp>

int main(int argc, char** argv) { return concierge::app::run_cli(argc, argv, std::cout, std::cerr); }
