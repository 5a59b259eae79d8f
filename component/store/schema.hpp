// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

struct sqlite3;

namespace concierge::store::schema {

// Written to the file header (PRAGMA application_id) so that SQLite tools and `file` can tell
// whose database this is, and so Concierge never migrates another program's file. "CNCG".
inline constexpr std::int32_t kApplicationId = 0x434E4347;

// This build's migration steps, in order: step N (1-based) is one SQL script that takes a
// database from user_version N-1 to N. Append steps; never edit one that has shipped.
std::span<const std::string_view> migrations();

// The schema version this build writes and understands: the number of steps.
int latest_version();

// Reads, without writing anything, whether db may be opened by a build that knows `steps`
// migration steps: a new empty file, or Concierge's own at a version not above `steps`. On
// refusal, false and a sentence for the admin in *error, starting "it ..." (the caller names the
// file).
bool check(sqlite3* db, std::size_t steps, std::string* error);

// Applies the steps db lacks, each in its own IMMEDIATE transaction that also sets
// application_id and user_version, so a failure or a crash leaves the database at the last
// completed step. Safe against another process migrating the same file at the same time.
bool migrate(sqlite3* db, std::span<const std::string_view> steps, std::string* error);

// PRAGMA user_version of db, or -1 when it cannot be read.
int version_of(sqlite3* db);

}  // namespace concierge::store::schema
