// SPDX-License-Identifier: MIT
#pragma once

#include <span>
#include <string>
#include <string_view>

struct pg_conn;

namespace concierge::store::pg_schema {

// This build's PostgreSQL migration steps, in order: step N (1-based) takes the schema from
// version N-1 to N. Step N means the same as SQLite's step N (schema.cpp): the same tables and
// columns, with types mapped (TEXT -> text, INTEGER -> bigint, 0/1 flags -> boolean). Append
// steps together with SQLite's; never edit one that has shipped.
std::span<const std::string_view> migrations();

// Applies the steps the connection's current schema (search_path) lacks, each in its own
// transaction that first takes pg_advisory_xact_lock on (Concierge, that schema), so that
// concurrent instances migrate once. The version lives in the table concierge_schema, which
// also marks the schema as Concierge's: a schema with tables but without it is refused, as is a
// version above this build's. On refusal or failure, false and a sentence for the admin in
// *error starting "it ..." or naming the step; nothing of a failed step is applied.
bool migrate(pg_conn* conn, std::span<const std::string_view> steps, std::string* error);

// The schema version of the connection's current schema, or -1 when it cannot be read.
int version_of(pg_conn* conn);

}  // namespace concierge::store::pg_schema
