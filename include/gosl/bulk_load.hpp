// What the importer and the maintenance commands need from the storage
// beyond the Store: a record as the entries it is stored as, sinks that take
// entries in key order, a directory of new tables adopted as a database, and
// the repair of a damaged one. Serving never uses these.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "gosl/avatar_name.hpp"
#include "gosl/status.hpp"
#include "gosl/uuid.hpp"

namespace gosl {

// The entries a record is stored as (docs/storage.md): key -> name and
// name -> key. Reused across calls so bulk loaders allocate little per record.
struct RecordEntries {
  std::string key_entry_key, key_entry_value;
  std::string name_entry_key, name_entry_value;
  // For a grid other than the main one: which grid recorded the name last.
  // Empty key: no such entry.
  std::string latest_entry_key, latest_entry_value;
};
void EncodeRecord(const AvatarName& name, const Uuid& key, std::string_view grid,
                  RecordEntries& out);

// The entries that say a record was registered in-world at time_us (the
// journal, docs/storage.md): when the key was last registered, and the
// registration itself.
struct RegistrationEntries {
  std::string time_key, time_value;
  std::string journal_key, journal_value;
};
void EncodeRegistration(const AvatarName& name, const Uuid& key, std::string_view grid,
                        uint64_t time_us, RegistrationEntries& out);

// Receives entries in strictly increasing key order (bulk loading).
class SortedSink {
 public:
  virtual ~SortedSink() = default;
  virtual Status Add(std::string_view key, std::string_view value) = 0;
  // Writes what is buffered; the sink is unusable afterwards.
  virtual Status Finish() = 0;
};

// A table file a sink has finished: its number, its size, and its first and
// last keys as LevelDB stores them (internal keys).
struct StagedTable {
  uint64_t number = 0;
  uint64_t file_size = 0;
  std::string smallest, largest;
};

// The table files written into one staging directory: the file numbers the
// sinks take, and what each finished table holds, which AdoptTables lists in
// the database's MANIFEST without reading a table again. Thread-safe: an
// import fills two sinks at once.
class StagedTables {
 public:
  uint64_t TakeFileNumber();
  void Finished(StagedTable table);
  // In the order they were finished.
  std::vector<StagedTable> tables() const;
  uint64_t next_file_number() const;

 private:
  mutable std::mutex mutex_;
  uint64_t next_file_number_ = 2;  // 1 is the MANIFEST
  std::vector<StagedTable> tables_;
};

// A sink that writes LevelDB table files straight into staging_dir (which
// must exist), with sequence number 0 on every entry: a fresh database built
// this way is written once and compresses better than one written through
// the log (docs/storage.md). Several sinks may fill disjoint key ranges at
// once, recording their tables in `staged`. block_bytes: the tables' block
// size (0: the serving default, 2 KB); see TableBlockBytes.
std::unique_ptr<SortedSink> NewTableSink(const std::string& staging_dir, StagedTables& staged,
                                         size_t block_bytes = 0);

// The block size for a database of about entry_bytes (keys and values before
// compression). A serving process keeps every table open, and LevelDB holds
// each open table's index in memory, one entry per block: blocks grow with
// the database (2 KB up to ~11 M records, then 4, 8, ... at most 64 KB) so
// that the index stays under ~10 MB and serving memory does not grow with
// the number of records.
size_t TableBlockBytes(uint64_t entry_bytes);

// What an import did, kept in the database it built (--status shows it).
struct ImportFacts {
  std::string file;       // as given to --import
  uint64_t time_s = 0;    // when it finished, seconds since 1970
  uint64_t imported = 0;  // records
  uint64_t skipped = 0;   // malformed lines
  bool refresh = false;   // into a database that was served (else a new one)
};

// What an import wrote, for the counts the database keeps (docs/storage.md):
// name entries per grid, and the registrations a backup's times journal.
struct ImportedCounts {
  std::map<std::string, uint64_t> names_per_grid;
  uint64_t registrations = 0;
  std::string newest_journal_key;  // the last journal entry written, or ""
};

// Counts what it passes on to sink (an import's name sink).
class CountingSink : public SortedSink {
 public:
  explicit CountingSink(SortedSink& sink) : sink_(sink) {}
  Status Add(std::string_view key, std::string_view value) override;
  Status Finish() override { return sink_.Finish(); }
  const ImportedCounts& counts() const { return counts_; }

 private:
  SortedSink& sink_;
  ImportedCounts counts_;
  std::string last_grid_;  // most records of a file share one grid: look it up once
  uint64_t* last_count_ = nullptr;
};

// Turns a staging directory of table files from NewTableSink into a database:
// writes the MANIFEST that lists `staged` (what LevelDB's RepairDB would
// write after reading every table again) and lets LevelDB move the tables to
// their levels. Returns kIOError/kCorruption on failure; the staging
// directory is then unusable. The database is given the name counts and the
// import's facts.
Status AdoptTables(const std::string& staging_dir, const StagedTables& staged,
                   const ImportedCounts& counts, const ImportFacts& facts);

// The right to use an import's work directories beside db (they are
// removed and made anew): one import at a time. kUnavailable while another
// holds it.
class ImportReservation {
 public:
  virtual ~ImportReservation() = default;
};
Result<std::unique_ptr<ImportReservation>> ReserveImport(const std::string& db);

// Rebuilds a damaged database's MANIFEST from the files that can still be
// read (LevelDB's RepairDB); unreadable files go to its lost/ directory.
// Returns kUnavailable for a directory without a database and while another
// process holds the database. lost_files: how many table files lost/ gained.
Status RepairDatabase(const std::string& path, size_t& lost_files);

}  // namespace gosl
