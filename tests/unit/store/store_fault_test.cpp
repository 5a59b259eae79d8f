// SPDX-License-Identifier: MIT
// The store on a damaged file, an empty file and a full file system (a real tmpfs: needs root,
// as CI runs).
#include <component/store/sqlite_store.hpp>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <variant>

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

namespace concierge::store {
namespace {

namespace fs = std::filesystem;
using StorePtr = std::unique_ptr<SqliteStore>;

class TempDir {
 public:
  TempDir() {
    std::array<char, 64> name{};
    std::string("/tmp/concierge-fault-XXXXXX").copy(name.data(), name.size() - 1);
    if (mkdtemp(name.data()) != nullptr) path_ = name.data();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

core::Hold hold(std::int64_t id) {
  return core::Hold{.id = id,
                    .sender = "alice@example.org",
                    .target = "bob@example.org",
                    .stanza = "<message id=\"m" + std::to_string(id) + "\"><body>" +
                              std::string(900, static_cast<char>('a' + id % 26)) +
                              "</body></message>",
                    .stanza_id = "m" + std::to_string(id),
                    .received = core::Instant{core::Duration{1'780'000'000'000 + id}}};
}

StorePtr open_ok(const std::string& path) {
  auto opened = SqliteStore::open(path);
  if (const auto* error = std::get_if<std::string>(&opened)) {
    ADD_FAILURE() << "open failed: " << *error;
    return nullptr;
  }
  return std::move(std::get<StorePtr>(opened));
}

// --- A damaged file -----------------------------------------------------------------------

TEST(DamagedStore, IsRefusedNamingTheFileAndTheRecoveryAndNothingIsWrittenToIt) {
  TempDir dir;
  const std::string path = dir.file("concierge.db");
  {
    auto store = open_ok(path);
    ASSERT_TRUE(store);
    for (std::int64_t id = 1; id <= 20; ++id) store->put_hold(hold(id));
    ASSERT_TRUE(store->commit());
    ASSERT_EQ(store->holds().size(), 20u);
  }  // closed: the WAL is checkpointed into the file
  // Random bytes (a fixed seed) over the last four pages: the holds' data pages, written last.
  const auto size = fs::file_size(path);
  ASSERT_GE(size, 8u * 4096u) << "20 holds of 1 KB fill several pages";
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(size - 4 * 4096));
    std::mt19937 random(14);
    for (int i = 0; i < 4 * 4096; ++i) file.put(static_cast<char>(random() & 0xFF));
  }
  const std::string damaged = bytes_of(path);
  // The clean close left its mark (SqliteCleanMark); the damage after it is found all the same.
  ASSERT_TRUE(fs::exists(path + "-clean"));

  auto opened = SqliteStore::open(path);
  const auto* error = std::get_if<std::string>(&opened);
  ASSERT_NE(error, nullptr) << "a damaged store was opened with "
                            << std::get<StorePtr>(opened)->holds().size() << " of 20 holds";
  EXPECT_NE(error->find("cannot open the store " + path + ": the file is damaged"),
            std::string::npos)
      << *error;
  EXPECT_NE(error->find("quick_check"), std::string::npos) << *error;
  EXPECT_NE(error->find("sqlite3 " + path + " .recover"), std::string::npos) << *error;
  EXPECT_NE(error->find("\"backup\" command"), std::string::npos) << *error;
  EXPECT_EQ(bytes_of(path), damaged) << "the damaged file was written to";
  EXPECT_FALSE(fs::exists(path + "-wal") && fs::file_size(path + "-wal") > 0);
}

TEST(DamagedStore, ADamagedSchemaIsRefusedWithTheSameRecovery) {
  TempDir dir;
  const std::string path = dir.file("concierge.db");
  {
    auto store = open_ok(path);
    ASSERT_TRUE(store);
    store->put_hold(hold(1));
    ASSERT_TRUE(store->commit());
  }
  {  // Random bytes over the first page after its 100-byte file header: the schema's table.
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(100);
    std::mt19937 random(14);
    for (int i = 100; i < 4096; ++i) file.put(static_cast<char>(random() & 0xFF));
  }
  const std::string damaged = bytes_of(path);
  auto opened = SqliteStore::open(path);
  const auto* error = std::get_if<std::string>(&opened);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(error->find("cannot open the store " + path + ": the file is damaged"),
            std::string::npos)
      << *error;
  EXPECT_NE(error->find("sqlite3 " + path + " .recover"), std::string::npos) << *error;
  EXPECT_EQ(bytes_of(path), damaged) << "the damaged file was written to";
}

TEST(DamagedStore, ASoundStoreOfTheSameSizeOpensWithEveryHold) {
  TempDir dir;
  const std::string path = dir.file("concierge.db");
  {
    auto store = open_ok(path);
    ASSERT_TRUE(store);
    for (std::int64_t id = 1; id <= 20; ++id) store->put_hold(hold(id));
    ASSERT_TRUE(store->commit());
  }
  auto store = open_ok(path);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->holds().size(), 20u);
}

// --- A clean close ------------------------------------------------------------------------
// Opening skips SQLite's quick_check (every page read) only for a file whose bytes are those of
// its last clean close: the mark is written when the store closes with no WAL left, and taken
// away when it opens, so a crash while open leaves none.

TEST(CleanClose, LeavesAMarkThatTheNextOpenTakesAway) {
  TempDir dir;
  const std::string path = dir.file("concierge.db");
  auto store = open_ok(path);
  ASSERT_TRUE(store);
  for (std::int64_t id = 1; id <= 20; ++id) store->put_hold(hold(id));
  ASSERT_TRUE(store->commit());
  EXPECT_FALSE(fs::exists(path + "-clean")) << "no mark while the store is open";
  store.reset();
  EXPECT_TRUE(fs::exists(path + "-clean")) << "a clean close leaves the mark";
  store = open_ok(path);
  ASSERT_TRUE(store);
  EXPECT_FALSE(fs::exists(path + "-clean")) << "opening takes it: a crash now leaves none";
  EXPECT_EQ(store->holds().size(), 20u);
}

TEST(CleanClose, NoMarkWhileAnotherConnectionKeepsTheWal) {
  TempDir dir;
  const std::string path = dir.file("concierge.db");
  auto store = open_ok(path);
  ASSERT_TRUE(store);
  auto other = open_ok(path);  // a second connection: the last one to close checkpoints
  ASSERT_TRUE(other);
  store->put_hold(hold(1));
  ASSERT_TRUE(store->commit());
  store.reset();
  EXPECT_FALSE(fs::exists(path + "-clean")) << "the WAL still holds what the file lacks";
  other.reset();
  EXPECT_TRUE(fs::exists(path + "-clean"));
  EXPECT_FALSE(fs::exists(path + "-wal"));
}

// --- A zero-byte file ----------------------------------------------------------------------

TEST(EmptyStoreFile, BecomesANewStoreWithAWarningNamingThePath) {
  TempDir dir;
  const std::string path = dir.file("concierge.db");
  std::ofstream(path).close();
  ASSERT_EQ(fs::file_size(path), 0u);
  auto store = open_ok(path);
  ASSERT_TRUE(store);
  ASSERT_EQ(store->warnings().size(), 1u);
  EXPECT_EQ(store->warnings()[0],
            "the store " + path + " was an empty file (zero bytes): it is now a new, empty store");
  EXPECT_TRUE(store->holds().empty());

  // A store created where there was no file, and one reopened, have nothing to say.
  auto fresh = open_ok(dir.file("fresh.db"));
  ASSERT_TRUE(fresh);
  EXPECT_TRUE(fresh->warnings().empty());
  store.reset();
  auto again = open_ok(path);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->warnings().empty());
}

// --- A full file system ----------------------------------------------------------------------

// A 512 KiB tmpfs of its own, unmounted at the end; mounted() is false when not root.
class SmallTmpfs {
 public:
  SmallTmpfs() {
    if (geteuid() != 0) return;
    mounted_ = ::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, "size=512k") == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~SmallTmpfs() {
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  std::string file(const std::string& name) const { return dir_.file(name); }
  // Writes a file until the file system refuses; returns the bytes written.
  std::size_t fill() const {
    std::FILE* f = std::fopen(file("filler").c_str(), "wb");
    if (f == nullptr) return 0;
    static const std::array<char, 4096> block{};
    std::size_t written = 0;
    while (std::fwrite(block.data(), 1, block.size(), f) == block.size()) written += block.size();
    std::fclose(f);
    return written;
  }
  void free_space() const { fs::remove(file("filler")); }

 private:
  TempDir dir_;
  bool mounted_ = false;
  std::string error_;
};

TEST(FullDisk, ACommitFailsSayingWhyKeepsItsWritesAndSucceedsOnceSpaceReturns) {
  SmallTmpfs disk;
  if (geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root (CI runs as root)";
  ASSERT_TRUE(disk.mounted()) << "mount -t tmpfs failed: " << disk.error();
  const std::string path = disk.file("concierge.db");
  auto store = open_ok(path);
  ASSERT_TRUE(store);
  store->put_hold(hold(1));
  ASSERT_TRUE(store->commit());

  ASSERT_GT(disk.fill(), 0u);
  for (std::int64_t id = 2; id <= 4; ++id) store->put_hold(hold(id));
  EXPECT_FALSE(store->commit()) << "a commit on a full disk cannot succeed";
  EXPECT_NE(store->commit_error().find("full"), std::string::npos) << store->commit_error();
  EXPECT_FALSE(store->commit()) << "still full";

  disk.free_space();
  EXPECT_TRUE(store->commit()) << store->commit_error();
  store.reset();
  auto reopened = open_ok(path);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->holds().size(), 4u);
}

}  // namespace
}  // namespace concierge::store
