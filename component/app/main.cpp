// SPDX-License-Identifier: MIT
// Temporary entry point until app/ lands.
int main() { return 0; }
