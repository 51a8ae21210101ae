// A SQLite VFS for fault-injection tests, as LevelDB's fault-injection Env:
// it wraps the VFS that was the default, becomes the default itself, and
// passes every call through, counting the calls that write (xWrite, and
// xSync, xTruncate and exclusive WAL locks when asked) so that a test can
// fail the N-th of them from now with an I/O error, or every one from the
// N-th on (a full disk).
//
// Only connections opened after install() go through it. One instance per
// process; the counters are guarded, so sessions on several threads may
// share it (which call is the N-th is then up to the scheduler).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <mutex>
#include <string>

namespace smk::test {

class FaultyVfs {
public:
    /// The kinds of call that are counted and may fail.
    enum Calls : unsigned { writes = 1, syncs = 2, truncates = 4, all_writing = 7, exclusive_locks = 8 };

    /// Registers the shim as SQLite's default VFS (the first call) and
    /// returns it. It stays registered for the life of the process,
    /// disarmed.
    static FaultyVfs& install();

    /// Counts calls of `kinds` from now, failing none (a dry run).
    void count(unsigned kinds = writes);
    /// Fails the `n`-th counted call from now (1: the next one), once. A
    /// write fails with `write_error` (SQLITE_IOERR_WRITE or SQLITE_FULL),
    /// a sync with SQLITE_IOERR_FSYNC, a truncate with SQLITE_IOERR_TRUNCATE,
    /// an exclusive lock of the WAL index (xShmLock: a writer's, a
    /// checkpoint's) with SQLITE_IOERR_LOCK.
    void fail_nth(std::uint64_t n, int write_error = SQLITE_IOERR_WRITE, unsigned kinds = writes);
    /// A full disk: every counted call from the `n`-th on fails (writes
    /// with SQLITE_FULL), until disarm().
    void fail_from(std::uint64_t n, unsigned kinds = writes);
    /// No more failures (counting goes on).
    void disarm();
    /// Counts and fails only calls on files whose path starts with
    /// `prefix` ("" for every file), so that files of an earlier test
    /// (closed late, from a connection pool) do not shift the count.
    void only_under(const std::string& prefix);
    /// Syncs return at once without reaching the disk (they are still
    /// counted and may fail): these tests are about errors, not power
    /// loss, and fsync took most of their time.
    void skip_syncs(bool skip);

    /// Calls counted since the last count(), fail_nth() or fail_from().
    std::uint64_t calls() const;
    /// Calls failed since then.
    std::uint64_t failures() const;
    /// "xWrite on <file>: <code>" for the first failed call since then, "" if none.
    std::string first_failure() const;

    /// While one lives, calls are neither counted nor failed (a test's own
    /// setup between the steps it counts).
    class Pause {
    public:
        Pause();
        ~Pause();
        Pause(const Pause&) = delete;
        Pause& operator=(const Pause&) = delete;
    };

    /// Every connection opened from now on keeps at most `pages` pages of
    /// its database in memory (PRAGMA cache_size), so a transaction's writes
    /// reach the file before it commits (a cache spill), as a large message
    /// does; 0 leaves SQLite's default. Through sqlite3_auto_extension.
    static void small_page_cache(int pages);

    /// Called by the shim's file methods: 0 to go on, -1 to return
    /// SQLITE_OK at once (a skipped sync), or the error to return.
    int on_call(unsigned kind, const char* file);

private:
    FaultyVfs() = default;
    void reset(unsigned kinds, std::uint64_t n, int write_error, bool sticky);

    mutable std::mutex mutex_;
    unsigned kinds_ = 0;
    std::uint64_t calls_ = 0;
    std::uint64_t failures_ = 0;
    std::uint64_t fail_at_ = 0;  ///< 0: never
    bool sticky_ = false;        ///< every call from fail_at_ on
    int write_error_ = SQLITE_IOERR_WRITE;
    int paused_ = 0;
    std::string prefix_;
    bool skip_syncs_ = false;
    std::string first_failure_;
};

}  // namespace smk::test
