// SPDX-License-Identifier: MIT
// The mark beside an SQLite store file (PATH-clean) that says: SQLite closed this file itself,
// and these were its bytes then. Owns that one file; never touches the store file or its WAL.
//
// SqliteStore::open checks a file with SQLite's quick_check before writing to it, which reads
// every page (seconds with a million holds). A file whose bytes are still those of a clean
// close by a store that was checked when it opened needs no second check: anything that
// changed them since (a disk error, a program writing to it, a copy over it) changes the hash,
// and a crash leaves no mark at all (open removes it), so the check runs in every other case.
#pragma once

#include <string>

namespace concierge::store {

class SqliteCleanMark {
 public:
  SqliteCleanMark() = default;
  // Writes the mark, if armed, once the store's connection has closed (SqliteStore declares
  // this member before its connection, so it is destroyed after it): when SQLite left no WAL
  // beside the file, i.e. it checkpointed everything into it and no other connection is open.
  ~SqliteCleanMark();
  SqliteCleanMark(const SqliteCleanMark&) = delete;
  SqliteCleanMark& operator=(const SqliteCleanMark&) = delete;

  // Whether the file at `path` is byte for byte what it was at the clean close its mark
  // records, with no WAL beside it. Removes the mark in any case (from now on the file may
  // change); false when it cannot.
  static bool take(const std::string& path);

  // Write the mark for `path` on destruction.
  void arm(const std::string& path) { path_ = path; }

 private:
  std::string path_;  // empty: not armed
};

}  // namespace concierge::store
