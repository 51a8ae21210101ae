// The shim: a sqlite3_vfs whose files wrap the real VFS's files. Each open
// file is our header (sqlite3_file plus a pointer) followed by the real
// file, in the one allocation SQLite makes of szOsFile bytes.
#include "faulty_vfs.hpp"

#include <atomic>
#include <cstring>
#include <stdexcept>

namespace smk::test {
namespace {

sqlite3_vfs* g_real = nullptr;     // the VFS that was the default
FaultyVfs* g_shim = nullptr;       // the counters
std::atomic<int> g_cache_pages{0};  // small_page_cache()

struct ShimFile {
    sqlite3_file base;
    sqlite3_file* real;
    const char* name;  // valid until xClose (SQLite keeps it)
};
// The real file follows the header, aligned for anything it holds.
constexpr std::size_t kHeaderSize = (sizeof(ShimFile) + 15) & ~std::size_t(15);

sqlite3_file* real(sqlite3_file* f) { return reinterpret_cast<ShimFile*>(f)->real; }
const sqlite3_io_methods* rm(sqlite3_file* f) { return real(f)->pMethods; }

const char* error_name(int rc) {
    switch (rc) {
        case SQLITE_FULL: return "SQLITE_FULL";
        case SQLITE_IOERR_WRITE: return "SQLITE_IOERR_WRITE";
        case SQLITE_IOERR_FSYNC: return "SQLITE_IOERR_FSYNC";
        case SQLITE_IOERR_TRUNCATE: return "SQLITE_IOERR_TRUNCATE";
        case SQLITE_IOERR_LOCK: return "SQLITE_IOERR_LOCK";
        default: return "an I/O error";
    }
}

int x_close(sqlite3_file* f) {
    sqlite3_file* r = real(f);
    int rc = r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;
    f->pMethods = nullptr;
    return rc;
}
int x_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) { return rm(f)->xRead(real(f), buf, n, off); }
int x_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
    if (int rc = g_shim->on_call(FaultyVfs::writes, reinterpret_cast<ShimFile*>(f)->name)) return rc < 0 ? SQLITE_OK : rc;
    return rm(f)->xWrite(real(f), buf, n, off);
}
int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
    if (int rc = g_shim->on_call(FaultyVfs::truncates, reinterpret_cast<ShimFile*>(f)->name)) return rc < 0 ? SQLITE_OK : rc;
    return rm(f)->xTruncate(real(f), size);
}
int x_sync(sqlite3_file* f, int flags) {
    if (int rc = g_shim->on_call(FaultyVfs::syncs, reinterpret_cast<ShimFile*>(f)->name)) return rc < 0 ? SQLITE_OK : rc;
    return rm(f)->xSync(real(f), flags);
}
int x_file_size(sqlite3_file* f, sqlite3_int64* size) { return rm(f)->xFileSize(real(f), size); }
int x_lock(sqlite3_file* f, int level) { return rm(f)->xLock(real(f), level); }
int x_unlock(sqlite3_file* f, int level) { return rm(f)->xUnlock(real(f), level); }
int x_check_reserved_lock(sqlite3_file* f, int* out) { return rm(f)->xCheckReservedLock(real(f), out); }
int x_file_control(sqlite3_file* f, int op, void* arg) { return rm(f)->xFileControl(real(f), op, arg); }
int x_sector_size(sqlite3_file* f) { return rm(f)->xSectorSize(real(f)); }
int x_device_characteristics(sqlite3_file* f) { return rm(f)->xDeviceCharacteristics(real(f)); }
int x_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
    return rm(f)->xShmMap(real(f), region, size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
    if ((flags & SQLITE_SHM_LOCK) && (flags & SQLITE_SHM_EXCLUSIVE))
        if (int rc = g_shim->on_call(FaultyVfs::exclusive_locks, reinterpret_cast<ShimFile*>(f)->name); rc > 0) return rc;
    return rm(f)->xShmLock(real(f), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) { rm(f)->xShmBarrier(real(f)); }
int x_shm_unmap(sqlite3_file* f, int del) { return rm(f)->xShmUnmap(real(f), del); }
int x_fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) { return rm(f)->xFetch(real(f), off, n, out); }
int x_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) { return rm(f)->xUnfetch(real(f), off, p); }

// One table per version of the real file's methods: a file of version 1
// must not look as if it had shared memory (SQLite would then use WAL).
sqlite3_io_methods methods_of_version(int version) {
    sqlite3_io_methods m{};
    m.iVersion = version;
    m.xClose = x_close;
    m.xRead = x_read;
    m.xWrite = x_write;
    m.xTruncate = x_truncate;
    m.xSync = x_sync;
    m.xFileSize = x_file_size;
    m.xLock = x_lock;
    m.xUnlock = x_unlock;
    m.xCheckReservedLock = x_check_reserved_lock;
    m.xFileControl = x_file_control;
    m.xSectorSize = x_sector_size;
    m.xDeviceCharacteristics = x_device_characteristics;
    if (version >= 2) {
        m.xShmMap = x_shm_map;
        m.xShmLock = x_shm_lock;
        m.xShmBarrier = x_shm_barrier;
        m.xShmUnmap = x_shm_unmap;
    }
    if (version >= 3) {
        m.xFetch = x_fetch;
        m.xUnfetch = x_unfetch;
    }
    return m;
}
const sqlite3_io_methods kMethods[3] = {methods_of_version(1), methods_of_version(2), methods_of_version(3)};

int x_open(sqlite3_vfs*, const char* name, sqlite3_file* f, int flags, int* out_flags) {
    auto* shim = reinterpret_cast<ShimFile*>(f);
    std::memset(f, 0, kHeaderSize + static_cast<std::size_t>(g_real->szOsFile));
    shim->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + kHeaderSize);
    shim->name = name ? name : "(temporary file)";
    int rc = g_real->xOpen(g_real, name, shim->real, flags, out_flags);
    // SQLite calls xClose whenever pMethods is set, also after a failed open.
    if (const sqlite3_io_methods* r = shim->real->pMethods) {
        int version = r->iVersion < 1 ? 1 : r->iVersion > 3 ? 3 : r->iVersion;
        f->pMethods = &kMethods[version - 1];
    }
    return rc;
}
int x_delete(sqlite3_vfs*, const char* name, int sync_dir) { return g_real->xDelete(g_real, name, sync_dir); }
int x_access(sqlite3_vfs*, const char* name, int flags, int* out) { return g_real->xAccess(g_real, name, flags, out); }
int x_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
    return g_real->xFullPathname(g_real, name, n, out);
}
void* x_dl_open(sqlite3_vfs*, const char* name) { return g_real->xDlOpen(g_real, name); }
void x_dl_error(sqlite3_vfs*, int n, char* out) { g_real->xDlError(g_real, n, out); }
void (*x_dl_sym(sqlite3_vfs*, void* lib, const char* sym))(void) { return g_real->xDlSym(g_real, lib, sym); }
void x_dl_close(sqlite3_vfs*, void* lib) { g_real->xDlClose(g_real, lib); }
int x_randomness(sqlite3_vfs*, int n, char* out) { return g_real->xRandomness(g_real, n, out); }
int x_sleep(sqlite3_vfs*, int us) { return g_real->xSleep(g_real, us); }
int x_current_time(sqlite3_vfs*, double* out) { return g_real->xCurrentTime(g_real, out); }
int x_get_last_error(sqlite3_vfs*, int n, char* out) {
    return g_real->xGetLastError ? g_real->xGetLastError(g_real, n, out) : 0;
}
int x_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) { return g_real->xCurrentTimeInt64(g_real, out); }
int x_set_system_call(sqlite3_vfs*, const char* name, sqlite3_syscall_ptr p) {
    return g_real->xSetSystemCall(g_real, name, p);
}
sqlite3_syscall_ptr x_get_system_call(sqlite3_vfs*, const char* name) { return g_real->xGetSystemCall(g_real, name); }
const char* x_next_system_call(sqlite3_vfs*, const char* name) { return g_real->xNextSystemCall(g_real, name); }

sqlite3_vfs g_vfs{};

// sqlite3_auto_extension's entry point: runs on every new connection.
int apply_cache_size(sqlite3* db, char**, const sqlite3_api_routines*) {
    int pages = g_cache_pages.load();
    if (pages <= 0) return SQLITE_OK;
    std::string pragma = "PRAGMA cache_size = " + std::to_string(pages);
    return sqlite3_exec(db, pragma.c_str(), nullptr, nullptr, nullptr);
}

}  // namespace

FaultyVfs& FaultyVfs::install() {
    static FaultyVfs* shim = [] {
        g_real = sqlite3_vfs_find(nullptr);
        if (!g_real) throw std::runtime_error("SQLite has no default VFS");
        g_shim = new FaultyVfs();  // lives as long as the process: files may outlive any owner
        g_vfs.iVersion = g_real->iVersion < 3 ? g_real->iVersion : 3;
        g_vfs.szOsFile = static_cast<int>(kHeaderSize) + g_real->szOsFile;
        g_vfs.mxPathname = g_real->mxPathname;
        g_vfs.zName = "smk-faulty";
        g_vfs.xOpen = x_open;
        g_vfs.xDelete = x_delete;
        g_vfs.xAccess = x_access;
        g_vfs.xFullPathname = x_full_pathname;
        g_vfs.xDlOpen = x_dl_open;
        g_vfs.xDlError = x_dl_error;
        g_vfs.xDlSym = x_dl_sym;
        g_vfs.xDlClose = x_dl_close;
        g_vfs.xRandomness = x_randomness;
        g_vfs.xSleep = x_sleep;
        g_vfs.xCurrentTime = x_current_time;
        g_vfs.xGetLastError = x_get_last_error;
        if (g_vfs.iVersion >= 2) g_vfs.xCurrentTimeInt64 = x_current_time_int64;
        if (g_vfs.iVersion >= 3) {
            g_vfs.xSetSystemCall = x_set_system_call;
            g_vfs.xGetSystemCall = x_get_system_call;
            g_vfs.xNextSystemCall = x_next_system_call;
        }
        if (sqlite3_vfs_register(&g_vfs, 1) != SQLITE_OK) throw std::runtime_error("cannot register the faulty VFS");
        return g_shim;
    }();
    return *shim;
}

void FaultyVfs::reset(unsigned kinds, std::uint64_t n, int write_error, bool sticky) {
    std::lock_guard<std::mutex> lock(mutex_);
    kinds_ = kinds;
    calls_ = 0;
    failures_ = 0;
    fail_at_ = n;
    sticky_ = sticky;
    write_error_ = write_error;
    first_failure_.clear();
}

void FaultyVfs::count(unsigned kinds) { reset(kinds, 0, SQLITE_IOERR_WRITE, false); }

void FaultyVfs::fail_nth(std::uint64_t n, int write_error, unsigned kinds) { reset(kinds, n, write_error, false); }

void FaultyVfs::fail_from(std::uint64_t n, unsigned kinds) { reset(kinds, n, SQLITE_FULL, true); }

void FaultyVfs::disarm() {
    std::lock_guard<std::mutex> lock(mutex_);
    fail_at_ = 0;
    sticky_ = false;
}

void FaultyVfs::only_under(const std::string& prefix) {
    std::lock_guard<std::mutex> lock(mutex_);
    prefix_ = prefix;
}

void FaultyVfs::skip_syncs(bool skip) {
    std::lock_guard<std::mutex> lock(mutex_);
    skip_syncs_ = skip;
}

std::uint64_t FaultyVfs::calls() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_;
}

std::uint64_t FaultyVfs::failures() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return failures_;
}

std::string FaultyVfs::first_failure() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return first_failure_;
}

int FaultyVfs::on_call(unsigned kind, const char* file) {
    std::lock_guard<std::mutex> lock(mutex_);
    int pass = kind == syncs && skip_syncs_ ? -1 : SQLITE_OK;
    if (paused_ > 0 || !(kinds_ & kind) || std::strncmp(file, prefix_.c_str(), prefix_.size()) != 0) return pass;
    ++calls_;
    bool fail = fail_at_ != 0 && (sticky_ ? calls_ >= fail_at_ : calls_ == fail_at_);
    if (!fail) return pass;
    int rc = kind == writes  ? write_error_
             : kind == syncs ? SQLITE_IOERR_FSYNC
             : kind == truncates ? SQLITE_IOERR_TRUNCATE
                                 : SQLITE_IOERR_LOCK;
    if (failures_++ == 0) {
        const char* call = kind == writes ? "xWrite" : kind == syncs ? "xSync" : kind == truncates ? "xTruncate" : "xShmLock";
        first_failure_ = std::string(call) + " on " + file + ": " + error_name(rc);
    }
    return rc;
}

FaultyVfs::Pause::Pause() {
    FaultyVfs& vfs = install();
    std::lock_guard<std::mutex> lock(vfs.mutex_);
    ++vfs.paused_;
}

FaultyVfs::Pause::~Pause() {
    FaultyVfs& vfs = install();
    std::lock_guard<std::mutex> lock(vfs.mutex_);
    --vfs.paused_;
}

void FaultyVfs::small_page_cache(int pages) {
    static bool registered = [] {
        // The entry point's real signature differs from the one the API declares.
        return sqlite3_auto_extension(reinterpret_cast<void (*)(void)>(apply_cache_size)) == SQLITE_OK;
    }();
    if (!registered) throw std::runtime_error("cannot register the page cache extension");
    g_cache_pages = pages;
}

}  // namespace smk::test
