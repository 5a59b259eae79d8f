// SPDX-License-Identifier: MIT
// SqliteStore's rows of the core's remembered bookkeeping (table `remembered`, migration 5).
#include <component/store/sqlite_store.hpp>

#include <sqlite3.h>

namespace concierge::store {

std::vector<core::Remembered> SqliteStore::remembered() {
  std::vector<core::Remembered> rows;
  Statement::Use use(statement(Sql::kSelectRemembered));
  Statement::Step step;
  while ((step = use.step()) == Statement::Step::kRow) {
    rows.push_back(core::Remembered{
        .kind = static_cast<core::Remembered::Kind>(use.column_int(0)),
        .a = use.column_text(1),
        .b = use.column_text(2),
        .detail = use.column_text(3),
        .number = use.column_int(4),
        .at = core::Instant{core::Duration{use.column_int(5)}},
    });
  }
  if (step == Statement::Step::kError) last_error_ = message_of(db_.get());
  return rows;
}

void SqliteStore::remember(const core::Remembered& row) {
  write(Sql::kUpsertRemembered,
        {std::int64_t{static_cast<std::uint8_t>(row.kind)}, row.a, row.b, row.detail, row.number,
         std::int64_t{row.at.time_since_epoch().count()}});
}

void SqliteStore::forget(core::Remembered::Kind kind, const std::string& a, const std::string& b) {
  write(Sql::kDeleteRemembered, {std::int64_t{static_cast<std::uint8_t>(kind)}, a, b});
}

}  // namespace concierge::store
