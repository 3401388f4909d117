#include "gosl/importer.hpp"

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "gosl/bulk_load.hpp"
#include "gosl/compression.hpp"
#include "gosl/external_sort.hpp"
#include "gosl/logging.hpp"
#include "gosl/text.hpp"
#include "gosl/what_line.hpp"
#include "store/db_files.hpp"
#include "util/posix_io.hpp"

namespace gosl {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr size_t kLoggedBadLines = 10;  // then only counted: a broken file must not flood the log
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr size_t kChunkBytes = 256 << 10;  // lines handed from the reader thread at a time
constexpr size_t kQueuedChunks = 4;
constexpr size_t kMergeBufferBytes = 32 * 1024;  // per run file while merging
// Descriptors kept free beside the merges' run files: the tables being
// written, the log, the input, LevelDB's own files.
constexpr size_t kSpareFiles = 16;

const char* Describe(Compression compression) {
  switch (compression) {
    case Compression::kGzip: return "gzip";
    case Compression::kBzip2: return "bzip2";
    case Compression::kNone: break;
  }
  return "plain text";
}

long PeakRssKb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// Lines from the reader thread, a chunk at a time, so that decompression
// (the slowest part: bzip2) runs on its own core beside parsing and sorting.
struct Chunk {
  std::string text;  // lines, each ending in '\n'
  size_t lines = 0;
};

class LineQueue {
 public:
  void Push(Chunk chunk) {
    std::unique_lock<std::mutex> lock(mutex_);
    space_.wait(lock, [this] { return chunks_.size() < kQueuedChunks || stopped_; });
    chunks_.push_back(std::move(chunk));
    ready_.notify_one();
  }
  void Close(Status status) {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    status_ = std::move(status);
    ready_.notify_one();
  }
  // The consumer gives up early (an error): unblock the reader.
  void Stop() {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
    space_.notify_all();
  }
  bool stopped() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stopped_;
  }
  // False once the reader has closed the queue and it is empty.
  bool Pop(Chunk& chunk) {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait(lock, [this] { return !chunks_.empty() || closed_; });
    if (chunks_.empty()) return false;
    chunk = std::move(chunks_.front());
    chunks_.pop_front();
    space_.notify_one();
    return true;
  }
  Status status() {
    std::lock_guard<std::mutex> lock(mutex_);
    return status_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_, space_;
  std::deque<Chunk> chunks_;
  bool closed_ = false, stopped_ = false;
  Status status_;
};

void ReadLines(LineReader& reader, LineQueue& queue, std::atomic<uint64_t>& bytes_consumed) {
  // Decoding (bzip2's blocks come from the decoder's own workers) is the
  // slowest part of an import: this thread only hands the text on, whole
  // lines at a time; the parsing thread splits them.
  for (;;) {
    Chunk chunk;
    chunk.text.reserve(kChunkBytes + LineReader::kMaxLineBytes + 1);
    chunk.lines = reader.NextLines(chunk.text, kChunkBytes);
    bytes_consumed = reader.bytes_consumed();
    if (chunk.lines == 0 || queue.stopped()) break;
    queue.Push(std::move(chunk));
  }
  queue.Close(reader.status());
}

// Progress on a terminal: a bar with records/s and an ETA from the
// compressed bytes consumed; redrawn at most five times a second.
class Progress {
 public:
  Progress(bool bar, uint64_t total_bytes) : bar_(bar), total_bytes_(total_bytes) {}

  void Update(size_t records, uint64_t bytes) {
    if (!bar_) return;
    auto now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    double elapsed = std::chrono::duration<double>(now - start_).count();
    double fraction = total_bytes_ ? static_cast<double>(bytes) / total_bytes_ : 0;
    double rate = elapsed > 0 ? records / elapsed : 0;
    double eta = fraction > 0.01 ? elapsed * (1 - fraction) / fraction : 0;
    int filled = static_cast<int>(fraction * 30);
    std::fprintf(stderr, "\r[%-30s] %3.0f%%  %zu records  %.0f/s  ETA %d:%02d ",
                 std::string(std::min(filled, 30), '#').c_str(), fraction * 100, records, rate,
                 static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
  }

  void Say(const char* what) {
    if (bar_) std::fprintf(stderr, "\r%-80s", what);
  }
  void Done() {
    if (bar_) std::fprintf(stderr, "\r%-80s\r", "");
  }

 private:
  bool bar_;
  uint64_t total_bytes_;
  Clock::time_point start_ = Clock::now(), last_{};
};

// How many run files each of the two merges may read at once, so that
// neither memory nor open files grow with the input: half of the open-file
// limit is LevelDB's (db_options.cpp), and of the other half what is not
// open yet or spare is shared by the two merges; memory_bytes is shared the
// same way in read buffers. Refuses a limit that leaves fewer than 2 each,
// before the file is read.
Result<size_t> MergeFanIn(size_t memory_bytes) {
  const size_t limit = posix::OpenFileLimit();
  const size_t files = limit ? limit : size_t{1} << 20;
  const size_t taken = posix::OpenFileCount() + kSpareFiles;
  const size_t by_files = files / 2 > taken ? (files / 2 - taken) / 2 : 0;
  if (by_files < 2) {
    return Status::Unavailable("the open-file limit (ulimit -n) is " + std::to_string(files) +
                               ": an import needs at least " + std::to_string(2 * (taken + 4)) +
                               "; raise it with 'ulimit -n " + std::to_string(2 * (taken + 4)) +
                               "'");
  }
  return std::min(by_files, std::max<size_t>(memory_bytes / 2 / kMergeBufferBytes, 2));
}

// Where the import keeps its sorted runs and builds a new database, beside
// the database so the final rename stays on one file system.
struct WorkDirs {
  std::string runs, staging;
  explicit WorkDirs(const std::string& db)
      : runs(db_files::ImportRunsDir(db)), staging(db_files::ImportStagingDir(db)) {}
  void Remove() const {
    std::error_code ec;
    fs::remove_all(runs, ec);
    fs::remove_all(staging, ec);
    fs::remove(db_files::OwnerLockFile(staging), ec);
  }
};

// A new database is built directly when there is none yet.
Result<bool> DatabaseIsNew(const std::string& db) {
  std::error_code ec;
  if (!fs::exists(db, ec)) return true;
  if (fs::exists(db_files::CurrentFile(db), ec)) return false;
  if (fs::is_directory(db, ec) && fs::is_empty(db, ec)) return true;
  return Status::InvalidArgument("'" + db +
                                 "' exists but holds no LevelDB database; move it away or "
                                 "choose another --dir/--databaseName");
}

// Merges the two key ranges' runs into their sinks on two threads at once.
Status MergeIntoSinks(const std::vector<std::string>& key_runs, SortedSink& key_sink,
                      const std::vector<std::string>& name_runs, SortedSink& name_sink,
                      size_t fan_in) {
  const MergeLimits limits{kMergeBufferBytes, fan_in};
  auto merge = [&limits](const std::vector<std::string>& runs, SortedSink& sink) {
    Status s = MergeRuns(runs, limits, [&sink](std::string_view k, std::string_view v) {
      return sink.Add(k, v);
    });
    Status finished = sink.Finish();
    return s.ok() ? finished : s;
  };
  Status name_status;
  std::thread name_thread([&] { name_status = merge(name_runs, name_sink); });
  Status key_status = merge(key_runs, key_sink);
  name_thread.join();
  return key_status.ok() ? name_status : key_status;
}

}  // namespace

std::string ImportStats::Summary() const {
  char text[400];
  const std::string registered =
      registrations > 0 ? " (" + std::to_string(registrations) + " registered in-world)" : "";
  std::snprintf(text, sizeof text,
                "%zu lines read, %zu records imported%s, %zu skipped, %.1f s, %.0f records/s, "
                "peak RSS %.1f MB, database %.1f MB (%.2f x the input file)",
                lines, imported, registered.c_str(), skipped, seconds,
                seconds > 0 ? imported / seconds : 0.0,
                peak_rss_kb / 1024.0, database_bytes / 1e6,
                input_bytes ? double(database_bytes) / input_bytes : 0.0);
  return text;
}

Result<ImportStats> ImportCsv(const ImportOptions& options, Store& store) {
  const auto start = Clock::now();
  auto reader = LineReader::Open(options.file);
  if (!reader.ok()) return reader.status();
  const std::string db = store.path();
  auto fresh = DatabaseIsNew(db);
  if (!fresh.ok()) return fresh.status();
  if (!fresh.value()) {
    // Fail before reading 500 MB if the database cannot be reached.
    if (Status s = store.Open(); !s.ok()) return s;
  }
  const size_t sort_bytes = std::max<size_t>(options.sort_memory_mb, 2) << 20;
  auto fan_in = MergeFanIn(sort_bytes);
  if (!fan_in.ok()) return fan_in.status();
  // One import at a time: the next one would remove this one's work.
  auto reservation = ReserveImport(db);
  if (!reservation.ok()) return reservation.status();
  const WorkDirs work(db);
  work.Remove();  // what an interrupted import left
  std::error_code ec;
  if (!fs::create_directories(work.runs, ec) && ec) {
    return Status::IOError("cannot create '" + work.runs + "': " + ec.message());
  }

  ImportStats stats;
  stats.fresh = fresh.value();
  stats.input_bytes = reader.value()->file_size();
  log::Notice("import: reading '" + options.file + "' (" +
              Describe(reader.value()->compression()) + ") into " +
              (stats.fresh ? "a new database" : "the existing database") + " at '" + db + "'");

  // Phase 1: read, parse and sort into runs (the reader decompresses on its own thread).
  RunWriter key_runs(work.runs, "k", sort_bytes / 2), name_runs(work.runs, "n", sort_bytes / 2);
  LineQueue queue;
  std::atomic<uint64_t> bytes_consumed{0};
  std::thread reader_thread(ReadLines, std::ref(*reader.value()), std::ref(queue),
                            std::ref(bytes_consumed));
  Progress progress(options.progress_bar, stats.input_bytes);
  RecordEntries entries;
  RegistrationEntries registration;
  Status status;
  bool header_checked = false;
  Chunk chunk;
  while (status.ok() && queue.Pop(chunk)) {
    std::string_view text(chunk.text);
    for (size_t begin = 0; begin < text.size() && status.ok();) {
      size_t end = text.find('\n', begin);
      std::string_view line = text.substr(begin, end - begin);
      begin = end + 1;
      ++stats.lines;
      if (stats.lines == 1 && line.substr(0, kUtf8Bom.size()) == kUtf8Bom) {
        line.remove_prefix(kUtf8Bom.size());
      }
      if (TrimBlanks(line).empty() || TrimBlanks(line) == "\r") continue;
      auto record = ParseExportLine(line);
      if (!header_checked) {
        header_checked = true;
        // A first line that is no record is a header ("uuid,name"), not an error.
        if (!record.ok() && !Uuid::Parse(TrimBlanks(line.substr(0, line.find(',')))).ok()) {
          log::Info("import: line " + std::to_string(stats.lines) + " read as a header: '" +
                    Sanitized(line, 60) + "'");
          continue;
        }
      }
      if (!record.ok()) {
        if (++stats.skipped <= kLoggedBadLines) {
          log::Warning("import: line " + std::to_string(stats.lines) + " skipped: " +
                       record.status().message());
        }
        continue;
      }
      const WhatRecord& pair = record->record;
      // A Hypergrid visitor belongs to its home grid, as when it registers.
      const std::string& grid = record->grid ? *record->grid
                                : !pair.name.hypergrid_host().empty() ? pair.name.hypergrid_host()
                                                                      : options.grid;
      EncodeRecord(pair.name, pair.key, grid, entries);
      status = key_runs.Add(entries.key_entry_key, entries.key_entry_value);
      if (status.ok()) status = name_runs.Add(entries.name_entry_key, entries.name_entry_value);
      if (status.ok() && !entries.latest_entry_key.empty()) {
        status = name_runs.Add(entries.latest_entry_key, entries.latest_entry_value);
      }
      // A backup's registrations stay registrations: a later refresh or
      // replacement carries them over older imported names (carry.hpp).
      if (status.ok() && record->registered_us != 0) {
        EncodeRegistration(pair.name, pair.key, grid, record->registered_us, registration);
        status = key_runs.Add(registration.time_key, registration.time_value);
        if (status.ok()) status = name_runs.Add(registration.journal_key, registration.journal_value);
        ++stats.registrations;
      }
      ++stats.imported;
      if (stats.lines % options.progress_records == 0) {
        log::Info("import: " + std::to_string(stats.lines) + " lines read");
      }
      if ((stats.imported & 4095) == 0) progress.Update(stats.imported, bytes_consumed);
    }
  }
  if (!status.ok()) queue.Stop();
  while (queue.Pop(chunk)) {
  }  // let a stopped reader finish
  reader_thread.join();
  if (status.ok()) status = queue.status();
  stats.skipped += reader.value()->long_lines();
  // The decoder's threads and buffers go now, and what their malloc arenas
  // kept goes back to the system: the merge's memory then does not come on
  // top of phase 1's.
  reader.value().reset();
  ::malloc_trim(0);
  if (stats.skipped > kLoggedBadLines) {
    log::Warning("import: " + std::to_string(stats.skipped - kLoggedBadLines) +
                 " more malformed lines skipped");
  }
  // A file with no record at all (empty, or not an export) is refused
  // rather than turned into an empty database.
  if (status.ok() && stats.imported == 0) {
    status = Status::InvalidArgument("'" + options.file + "' holds no UUID,Name records (" +
                                     std::to_string(stats.lines) + " lines, " +
                                     std::to_string(stats.skipped) + " malformed)");
  }
  auto key_files = key_runs.Finish();
  auto name_files = name_runs.Finish();
  if (status.ok() && !key_files.ok()) status = key_files.status();
  if (status.ok() && !name_files.ok()) status = name_files.status();
  if (!status.ok()) {
    work.Remove();
    return status;
  }

  // Phase 2: merge the runs in key order into a new database beside the
  // live one (the file's records alone, written once).
  progress.Say("writing the database in key order...");
  const size_t runs = std::max(key_files->size(), name_files->size());
  log::Info("import: merging " + std::to_string(key_files->size()) + " + " +
            std::to_string(name_files->size()) + " sorted runs, " +
            std::to_string(fan_in.value()) + " files at a time (" +
            std::to_string(MergePasses(runs, fan_in.value())) + " passes)");
  if (!fs::create_directories(work.staging, ec) && ec) {
    status = Status::IOError("cannot create '" + work.staging + "': " + ec.message());
  }
  StagedTables staged;
  // The runs hold about what the tables will (a key repeated in two runs
  // counts twice): enough to choose the block size.
  uint64_t entry_bytes = 0;
  for (const auto* files : {&key_files.value(), &name_files.value()}) {
    for (const std::string& file : *files) {
      const uintmax_t bytes = fs::file_size(file, ec);
      if (!ec) entry_bytes += bytes;
    }
  }
  const size_t block_bytes = TableBlockBytes(entry_bytes);
  log::Info("import: " + std::to_string(entry_bytes >> 20) + " MB of entries, in blocks of " +
            std::to_string(block_bytes >> 10) + " KB");
  auto key_sink = NewTableSink(work.staging, staged, block_bytes);
  auto table_sink = NewTableSink(work.staging, staged, block_bytes);
  CountingSink name_sink(*table_sink);
  if (status.ok()) {
    status = MergeIntoSinks(key_files.value(), *key_sink, name_files.value(), name_sink,
                            fan_in.value());
  }
  ImportFacts facts;
  facts.file = options.file;
  facts.time_s = static_cast<uint64_t>(std::time(nullptr));
  facts.imported = stats.imported;
  facts.skipped = stats.skipped;
  facts.refresh = !stats.fresh;
  if (status.ok()) status = AdoptTables(work.staging, staged, name_sink.counts(), facts);
  if (stats.fresh) {
    // The finished database takes its place in one rename: killed before
    // it, there is no database; after it, a complete one.
    if (status.ok()) {
      fs::remove(db, ec);  // an empty directory left by hand, if any
      fs::rename(work.staging, db, ec);
      if (ec) {
        // Something took the name meanwhile (a server created an empty
        // database there): keep the finished work where it is.
        progress.Done();
        std::error_code ignored;
        fs::remove_all(work.runs, ignored);
        return Status::IOError("the new database is complete in '" + work.staging +
                               "' but cannot replace '" + db + "' (" + ec.message() +
                               "); move it there by hand");
      }
    }
  } else if (status.ok()) {
    // A refresh: the new database is swapped in by the process serving the
    // path, which goes on answering (from both while it carries what the old
    // one knew that the file lacks); killed before the swap, the old one
    // serves untouched, and running the import again completes it.
    progress.Say("swapping the new database in and carrying the old one's records...");
    auto summary = store.SwapIn(work.staging, /*refresh=*/true);
    if (summary.ok()) {
      log::Notice("import: " + summary.value());
    } else {
      status = summary.status();
    }
  }
  progress.Done();
  work.Remove();
  if (!status.ok()) return status;

  stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  stats.peak_rss_kb = PeakRssKb();
  stats.database_bytes = posix::DirectoryBytes(db);
  return stats;
}

}  // namespace gosl
