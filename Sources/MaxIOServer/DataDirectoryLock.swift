import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive lock on `DATA/lock` (flock), held while the server runs, so that a second server refuses to
/// start on a data directory that is in use instead of cleaning up under the first one.
final class DataDirectoryLock {
    private let fd: Int32

    init(dataDir: String) throws {
        let path = dataDir + "/lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ConfigError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw ConfigError(
                "the data directory \(dataDir) is in use by another maxiofs server (\(path) is locked)")
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
