import Crypto
import Foundation
import MaxIOCore
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Object bodies. Blobs are named by internal ids, never by keys.
package protocol BlobStore: Sendable {
    /// Starts a new blob in a temporary place; nothing is visible until `commit`.
    /// `sealing`: how its bytes are encrypted on disk; the writer takes plaintext.
    /// `compression`: a zlib level to store it compressed (transparent compression), nil to store it as is.
    func create(hashSHA256: Bool, checksum: ChecksumAlgorithm?, sealing: BlobSealing, compression: Int?) async throws
        -> any BlobWriter
    /// Opens a committed blob for reading, as plaintext; nil if it does not exist (it may have just been
    /// retired). `sealing` and `compressed` must be how it was written.
    func open(_ id: String, sealing: BlobSealing, compressed: Bool) async throws -> (any BlobReader)?
    /// Removes a committed blob. Open readers keep reading what they opened.
    func delete(_ id: String) async
    /// Bytes of the storage the blobs live on: total and available to new blobs.
    func capacity() async throws -> (total: Int64, available: Int64)
}

/// Hashes of a finished blob.
package struct BlobDigests: Sendable {
    package var size: Int64
    package var md5: [UInt8]
    package var sha256: [UInt8]?
    /// The additional checksum, when one was requested.
    package var checksum: ChecksumHasher?
}

package protocol BlobWriter: AnyObject, Sendable {
    var id: String { get }
    func write(_ buffer: ByteBuffer) async throws
    /// Flushes, hashes and makes the blob durable under its id. Returns its digests.
    func finish() async throws -> BlobDigests
    /// Renames the finished blob into place (after the caller checked its digests).
    func commit() async throws
    /// Discards the temporary data. Safe to call more than once, and after commit (no-op).
    func abort() async
}

package protocol BlobReader: Sendable {
    var size: Int64 { get }
    /// Reads up to `length` bytes at `offset`.
    func read(offset: Int64, length: Int) async throws -> ByteBuffer
    func close() async
}

/// Blobs as files: `blobs/ab/cd/<id>`, written to `tmp/` first, then fsynced and renamed.
package final class FileBlobStore: BlobStore {
    package let root: String
    package let durable: Bool
    /// The server keys for sealed blobs.
    package let keyring: BlobKeyring?
    let pool: NIOThreadPool
    let allocator = ByteBufferAllocator()
    var tmpDir: String { root + "/tmp" }
    var blobDir: String { root + "/blobs" }

    package init(root: String, durable: Bool, keyring: BlobKeyring? = nil, threads: Int = 4) throws {
        self.keyring = keyring
        self.root = root
        self.durable = durable
        self.pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        for d in [root, root + "/tmp", root + "/blobs"] {
            if mkdir(d, 0o755) != 0 && errno != EEXIST {
                throw StorageError.io("cannot create \(d): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Removes temporary files left by a crash. Call before serving.
    package func cleanTemporary() throws -> Int {
        let names = try FileManager.default.contentsOfDirectory(atPath: tmpDir)
        return names.filter { removeFile("tmp/" + $0) }.count
    }

    /// Whether any committed blob exists.
    package func hasBlobs() -> Bool {
        let fm = FileManager.default
        for a in (try? fm.contentsOfDirectory(atPath: blobDir)) ?? [] {
            for b in (try? fm.contentsOfDirectory(atPath: blobDir + "/" + a)) ?? [] {
                if !((try? fm.contentsOfDirectory(atPath: blobDir + "/" + a + "/" + b)) ?? []).isEmpty { return true }
            }
        }
        return false
    }

    /// Removes blobs the catalog does not reference (left by a crash between rename and commit).
    /// Only blobs written after `notBefore` (the catalog's creation) are candidates: older ones were not written
    /// through this catalog.
    package func collectOrphans(referenced: Set<String>, olderThan: Date, notBefore: Date = .distantPast) throws
        -> Int
    {
        var removed = 0
        let fm = FileManager.default
        for a in (try? fm.contentsOfDirectory(atPath: blobDir)) ?? [] {
            for b in (try? fm.contentsOfDirectory(atPath: blobDir + "/" + a)) ?? [] {
                let dir = blobDir + "/" + a + "/" + b
                for id in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] where !referenced.contains(id) {
                    let path = dir + "/" + id
                    var st = stat()
                    guard stat(path, &st) == 0 else { continue }
                    // File times come from the kernel's coarse clock, a tick behind: a 0.05 s margin.
                    let mtime = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
                    if mtime < olderThan.timeIntervalSince1970, mtime + 0.05 >= notBefore.timeIntervalSince1970 {
                        unlink(path)
                        removed += 1
                    }
                }
            }
        }
        return removed
    }

    /// A file under `blobs/`.
    package struct BlobFile: Sendable {
        /// Relative to the data directory.
        package var path: String
        /// The blob id when the file sits where the blob of that name belongs, else nil (a stray file).
        package var id: String?
        package var size: Int64
        package var modified: Date
    }

    /// Every regular file under `blobs/`, at any depth.
    package func blobFiles() -> [BlobFile] {
        var out: [BlobFile] = []
        guard let walker = FileManager.default.enumerator(atPath: blobDir) else { return out }
        while let relative = walker.nextObject() as? String {
            let full = blobDir + "/" + relative
            var st = stat()
            guard lstat(full, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            let name = String(relative.split(separator: "/").last ?? "")
            let mtime = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
            out.append(
                BlobFile(
                    path: "blobs/" + relative, id: path(of: name) == full ? name : nil, size: Int64(st.st_size),
                    modified: Date(timeIntervalSince1970: mtime)))
        }
        return out
    }

    /// Whether the file (relative to the data directory) begins as a sealed blob does.
    package func isSealedFile(_ relative: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: root + "/" + relative) else { return false }
        defer { try? h.close() }
        return SealedLayout.isSealed((try? h.read(upToCount: 4)) ?? Data())
    }

    /// Names of the files in `tmp/`.
    package func temporaryFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: tmpDir)) ?? []).sorted()
    }

    /// Removes a file (or a directory with what it holds) given relative to the data directory; false when it
    /// could not.
    package func removeFile(_ relative: String) -> Bool {
        let path = root + "/" + relative
        if unlink(path) == 0 { return true }
        guard errno == EISDIR || errno == EPERM else { return false }
        return (try? FileManager.default.removeItem(atPath: path)) != nil
    }

    func path(of id: String) -> String {
        let u = Array(id.utf8)
        guard u.count >= 4 else { return blobDir + "/" + id }
        return blobDir + "/" + String(decoding: u[0..<2], as: UTF8.self) + "/"
            + String(decoding: u[2..<4], as: UTF8.self) + "/" + id
    }

    package func create(hashSHA256: Bool, checksum: ChecksumAlgorithm?, sealing: BlobSealing, compression: Int?)
        async throws -> any BlobWriter
    {
        let id = randomHexID()
        let tmp = tmpDir + "/" + id
        let sealed = sealing == .plain ? nil : try SealedLayout.newHeader(for: sealing, id: id, keyring: keyring)
        let fd = try await pool.runIfActive {
            let fd = Glibc.open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw StorageError.io("create \(tmp): \(String(cString: strerror(errno)))") }
            if let sealed {
                do {
                    try sealed.header.withUnsafeBytes { try writeFully(fd, $0) }
                } catch {
                    Glibc.close(fd)
                    unlink(tmp)
                    throw error
                }
            }
            return fd
        }
        return FileBlobWriter(
            store: self, id: id, tmpPath: tmp, fd: fd, hashSHA256: hashSHA256, checksum: checksum,
            sealer: try sealed.map { try ChunkSealer(key: $0.key) },
            compressor: try compression.map { try ChunkCompressor(level: $0) })
    }

    package func open(_ id: String, sealing: BlobSealing, compressed: Bool) async throws -> (any BlobReader)? {
        try await pool.runIfActive { try self.openReaderSync(id, sealing: sealing, compressed: compressed) }
    }

    package func delete(_ id: String) async {
        let p = path(of: id)
        _ = try? await pool.runIfActive { unlink(p) }
    }

    /// Creates `blobs/ab/cd` for an id if needed.
    /// Creates `blobs/ab/cd` for an id if needed (durably, in durable mode).
    func ensureDirectory(for id: String) throws {
        let u = Array(id.utf8)
        guard u.count >= 4 else { return }
        let a = blobDir + "/" + String(decoding: u[0..<2], as: UTF8.self)
        let b = a + "/" + String(decoding: u[2..<4], as: UTF8.self)
        if access(b, F_OK) == 0 { return }
        for (dir, parent) in [(a, blobDir), (b, a)] {
            if mkdir(dir, 0o755) == 0 {
                if durable { try syncDirectory(parent) }
            } else if errno != EEXIST {
                throw StorageError.io("mkdir \(dir): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// fsyncs a directory, so a rename or create in it survives a power cut.
    func syncDirectory(_ path: String) throws {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError.io("open \(path): \(String(cString: strerror(errno)))") }
        defer { Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw StorageError.io("fsync \(path): \(String(cString: strerror(errno)))") }
    }

    /// Renames a finished temporary file to its blob path; in durable mode the directory entry is
    /// fsynced before the catalog may refer to it.
    func moveIntoPlace(_ tmp: String, id: String) throws {
        try ensureDirectory(for: id)
        let final = path(of: id)
        guard rename(tmp, final) == 0 else { throw StorageError.io("rename: \(String(cString: strerror(errno)))") }
        if durable {
            do {
                try syncDirectory(String(final[..<final.lastIndex(of: "/")!]))
            } catch {
                unlink(final)
                throw error
            }
        }
    }

    package func capacity() async throws -> (total: Int64, available: Int64) {
        let root = self.root
        return try await pool.runIfActive {
            var s = statvfs()
            guard statvfs(root, &s) == 0 else {
                throw StorageError.io("statvfs \(root): \(String(cString: strerror(errno)))")
            }
            let unit = Int64(s.f_frsize)
            return (Int64(s.f_blocks) * unit, Int64(s.f_bavail) * unit)
        }
    }

    package func shutdown() async {
        try? await pool.shutdownGracefully()
    }
}

/// Mutable state of one write, touched by one thread-pool job at a time (each job is awaited
/// before the next starts), hence unchecked Sendable.
final class FileBlobWriter: BlobWriter, @unchecked Sendable {
    let store: FileBlobStore
    let id: String
    let tmpPath: String
    var fd: Int32
    var md5 = Insecure.MD5()
    var sha256: SHA256?
    var checksum: ChecksumHasher?
    /// Encrypts the bytes of a sealed blob on their way to the file.
    var sealer: ChunkSealer?
    var sealedOut = ByteBuffer()
    /// Compresses the bytes first (transparent compression), before sealing or writing.
    var compressor: ChunkCompressor?
    var compressedOut = ByteBuffer()
    var pending: [ByteBuffer] = []
    var pendingBytes = 0
    var inFlight: EventLoopFuture<Void>?
    var size: Int64 = 0
    var finished = false
    var committed = false
    static let flushThreshold = 1 << 20

    init(
        store: FileBlobStore, id: String, tmpPath: String, fd: Int32, hashSHA256: Bool, checksum: ChecksumAlgorithm?,
        sealer: ChunkSealer?, compressor: ChunkCompressor?
    ) {
        self.compressor = compressor
        self.sealer = sealer
        self.checksum = checksum.map(ChecksumHasher.init)
        self.store = store
        self.id = id
        self.tmpPath = tmpPath
        self.fd = fd
        self.sha256 = hashSHA256 ? SHA256() : nil
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
        if !committed { unlink(tmpPath) }
    }

    func write(_ buffer: ByteBuffer) async throws {
        size += Int64(buffer.readableBytes)
        pending.append(buffer)
        pendingBytes += buffer.readableBytes
        if pendingBytes >= Self.flushThreshold {
            try await flush(wait: false)
        }
    }

    /// Hands the pending buffers to the thread pool, where they are hashed and written. The job runs
    /// while the next buffers arrive; `wait` also waits for it.
    private func flush(wait: Bool) async throws {
        if let f = inFlight {
            inFlight = nil
            try await f.get()
        }
        if !pending.isEmpty {
            let buffers = pending
            pending = []
            pendingBytes = 0
            let f = store.pool.runIfActive(eventLoop: MultiThreadedEventLoopGroup.singleton.any()) {
                try self.writeAll(buffers)
            }
            if wait {
                try await f.get()
            } else {
                inFlight = f
            }
        }
    }

    private func writeAll(_ buffers: [ByteBuffer]) throws {
        for b in buffers {
            try b.withUnsafeReadableBytes { raw in
                md5.update(bufferPointer: raw)
                sha256?.update(bufferPointer: raw)
                checksum?.update(raw)
                if compressor != nil {
                    compressor!.feed(raw, into: &compressedOut)
                } else {
                    try store(raw)
                }
            }
        }
        try storeCompressed()
        try writeSealed()
    }

    /// Seals (or writes) bytes in the form they are stored in.
    private func store(_ raw: UnsafeRawBufferPointer) throws {
        if sealer != nil {
            try sealer!.feed(raw, into: &sealedOut)
        } else {
            try writeFully(fd, raw)
        }
    }

    private func storeCompressed() throws {
        guard compressedOut.readableBytes > 0 else { return }
        let bytes = compressedOut
        compressedOut.clear()
        try bytes.withUnsafeReadableBytes { try store($0) }
    }

    /// Writes the sealed chunks made so far.
    private func writeSealed() throws {
        guard sealedOut.readableBytes > 0 else { return }
        try sealedOut.withUnsafeReadableBytes { try writeFully(fd, $0) }
        sealedOut.clear()
    }

    /// Seals the last chunk and writes it.
    private func finishSealing() throws {
        if compressor != nil {
            compressor!.finish(into: &compressedOut)
            try storeCompressed()
        }
        guard sealer != nil else { return }
        try sealer!.finish(into: &sealedOut)
        try writeSealed()
    }

    func finish() async throws -> BlobDigests {
        try await flush(wait: true)
        let durable = store.durable
        let fd = self.fd
        if durable || sealer != nil || compressor != nil {
            try await store.pool.runIfActive {
                try self.finishSealing()
                if durable && fsync(fd) != 0 { throw StorageError.io("fsync: \(String(cString: strerror(errno)))") }
            }
        }
        finished = true
        return BlobDigests(
            size: size, md5: Array(md5.finalize()), sha256: sha256.map { Array($0.finalize()) }, checksum: checksum)
    }

    func commit() async throws {
        guard finished else { throw StorageError.io("commit before finish") }
        let tmp = tmpPath
        let fd = self.fd
        let store = self.store
        let id = self.id
        // The descriptor is closed by the job on every path; nothing may close it again.
        self.fd = -1
        do {
            try await store.pool.runIfActive {
                Glibc.close(fd)
                try store.moveIntoPlace(tmp, id: id)
            }
        } catch {
            unlink(tmp)
            committed = true  // nothing left for abort or deinit
            throw error
        }
        committed = true
    }

    func abort() async {
        if let f = inFlight {
            inFlight = nil
            _ = try? await f.get()
        }
        guard !committed else { return }
        let fd = self.fd
        let tmp = tmpPath
        self.fd = -1
        committed = true  // nothing more to clean in deinit
        let cleanup: @Sendable () -> Void = {
            if fd >= 0 { Glibc.close(fd) }
            unlink(tmp)
        }
        do {
            try await store.pool.runIfActive(cleanup)
        } catch {
            cleanup()  // the pool is shutting down: clean up here rather than leak
        }
    }
}

final class FileBlobReader: BlobReader {
    let store: FileBlobStore
    let fd: Int32
    /// Plaintext bytes.
    let size: Int64
    /// Decrypts a sealed blob; nil for a plain one.
    let opener: ChunkOpener?
    /// Inflates a compressed blob; nil for one stored as is.
    let inflater: ChunkInflater?
    let closed = Atomic<Bool>(false)

    /// A reader dropped without `close` (e.g. the client went away before the response started)
    /// still releases its descriptor.
    deinit {
        if !closed.load(ordering: .acquiring) { Glibc.close(fd) }
    }

    init(store: FileBlobStore, fd: Int32, size: Int64, opener: ChunkOpener? = nil, inflater: ChunkInflater? = nil) {
        self.store = store
        self.fd = fd
        self.size = inflater?.size ?? size
        self.opener = opener
        self.inflater = inflater
    }

    func read(offset: Int64, length: Int) async throws -> ByteBuffer {
        try await store.pool.runIfActive { try self.readSync(offset: offset, length: length) }
    }

    /// Reads up to `length` plaintext bytes at `offset`, decrypting and inflating the chunks they lie in.
    func readSync(offset: Int64, length: Int) throws -> ByteBuffer {
        guard let inflater else {
            return try store.readStoredSync(fd: fd, opener: opener, offset: offset, length: length)
        }
        return try inflater.read(offset: offset, length: length) { o, l in
            try store.readStoredSync(fd: fd, opener: opener, offset: o, length: l)
        }
    }
}

extension FileBlobStore {
    /// Reads up to `length` bytes of a blob as stored (compressed or not) at `offset`, decrypting a sealed one.
    func readStoredSync(fd: Int32, opener: ChunkOpener?, offset: Int64, length: Int) throws -> ByteBuffer {
        let store = self
        guard let opener else { return try store.preadSync(fd: fd, offset: offset, length: length) }
        guard let span = opener.span(offset: offset, length: length) else { return ByteBuffer() }
        let sealed = try store.preadSync(fd: fd, offset: span.disk.lowerBound, length: span.disk.count)
        var out = store.allocator.buffer(capacity: min(length, Int(opener.size - offset)))
        do {
            try sealed.withUnsafeReadableBytes { raw in
                try opener.open(raw, first: span.first, offset: offset, length: length, into: &out)
            }
        } catch let e as SealError {
            throw StorageError.io(e.message)
        }
        return out
    }
}

extension FileBlobReader {
    /// Idempotent: a second close must never close a descriptor number reused by another open.
    func close() async { closeSync() }

    func closeSync() {
        if closed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged {
            Glibc.close(fd)
        }
    }
}

// MARK: synchronous steps, for one-job requests on the embedded backend

extension FileBlobStore {
    /// Opens a committed blob: its descriptor and size; nil when it does not exist.
    func openSync(_ id: String) throws -> (fd: Int32, size: Int64)? {
        let fd = Glibc.open(path(of: id), O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw StorageError.io("open blob: \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            Glibc.close(fd)
            throw StorageError.io("fstat blob: \(String(cString: strerror(errno)))")
        }
        return (fd, Int64(st.st_size))
    }

    /// Opens a committed blob for plaintext reads: a sealed one has its header checked and its data key
    /// unwrapped here. Nil when it does not exist.
    func openReaderSync(_ id: String, sealing: BlobSealing, compressed: Bool = false) throws -> FileBlobReader? {
        guard let (fd, size) = try openSync(id) else { return nil }
        do {
            var opener: ChunkOpener?
            var stored = size
            if sealing != .plain {
                (opener, stored) = try sealedOpener(id, fd: fd, size: size, sealing: sealing)
            }
            let inflater =
                try compressed
                ? ChunkInflater(storedSize: stored) { o, l in
                    try readStoredSync(fd: fd, opener: opener, offset: o, length: l)
                } : nil
            return FileBlobReader(store: self, fd: fd, size: stored, opener: opener, inflater: inflater)
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// Checks a sealed blob's header and unwraps its data key: the opener, and the size of what it holds.
    func sealedOpener(_ id: String, fd: Int32, size: Int64, sealing: BlobSealing) throws -> (ChunkOpener, Int64) {
        do {
            let header = try preadSync(fd: fd, offset: 0, length: SealedLayout.headerSize)
            let key = try SealedLayout.unwrap(
                header.getBytes(at: header.readerIndex, length: header.readableBytes) ?? [], for: sealing, id: id,
                keyring: keyring)
            guard let plain = SealedLayout.plainSize(sealed: size) else {
                throw SealError(message: "blob \(id) has \(size) bytes, which no sealed blob has")
            }
            return (try ChunkOpener(key: key, size: plain), plain)
        } catch let e as SealError {
            throw StorageError.io(e.message)
        }
    }

    func preadSync(fd: Int32, offset: Int64, length: Int) throws -> ByteBuffer {
        var buffer = allocator.buffer(capacity: length)
        _ = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { ptr in
            var total = 0
            while total < length {
                let r = pread(fd, ptr.baseAddress! + total, length - total, off_t(offset) + off_t(total))
                if r < 0 {
                    if errno == EINTR { continue }
                    throw StorageError.io("read: \(String(cString: strerror(errno)))")
                }
                if r == 0 { break }
                total += r
            }
            return total
        }
        return buffer
    }

    /// Writes a whole body as a new blob in one step: temporary file, hashes, `validate` (which may
    /// throw to refuse it), fsync in durable mode, rename into place. Nothing is left behind on failure.
    func writeWholeSync(
        _ body: ByteBuffer, hashSHA256: Bool, checksum: ChecksumAlgorithm?, sealing: BlobSealing,
        compression: Int? = nil, validate: (BlobDigests) throws -> Void
    ) throws -> (id: String, digests: BlobDigests) {
        let id = randomHexID()
        let sealed = sealing == .plain ? nil : try SealedLayout.newHeader(for: sealing, id: id, keyring: keyring)
        let tmp = tmpDir + "/" + id
        let fd = Glibc.open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StorageError.io("create \(tmp): \(String(cString: strerror(errno)))") }
        var closed = false
        var renamed = false
        defer {
            if !closed { Glibc.close(fd) }
            if !renamed { unlink(tmp) }
        }
        var md5 = Insecure.MD5()
        var sha = hashSHA256 ? SHA256() : nil
        var sum = checksum.map(ChecksumHasher.init)
        var stored = body
        if let compression {
            var compressor = try ChunkCompressor(level: compression)
            var out = allocator.buffer(capacity: body.readableBytes / 2 + 64)
            body.withUnsafeReadableBytes { compressor.feed($0, into: &out) }
            compressor.finish(into: &out)
            stored = out
        }
        body.withUnsafeReadableBytes { raw in
            md5.update(bufferPointer: raw)
            sha?.update(bufferPointer: raw)
            sum?.update(raw)
        }
        try stored.withUnsafeReadableBytes { raw in
            if let sealed {
                var out = allocator.buffer(capacity: Int(SealedLayout.sealedSize(plain: Int64(raw.count))))
                out.writeBytes(sealed.header)
                var sealer = try ChunkSealer(key: sealed.key)
                try sealer.feed(raw, into: &out)
                try sealer.finish(into: &out)
                try out.withUnsafeReadableBytes { try writeFully(fd, $0) }
            } else {
                try writeFully(fd, raw)
            }
        }
        let digests = BlobDigests(
            size: Int64(body.readableBytes), md5: Array(md5.finalize()), sha256: sha.map { Array($0.finalize()) },
            checksum: sum)
        try validate(digests)
        if durable && fsync(fd) != 0 { throw StorageError.io("fsync: \(String(cString: strerror(errno)))") }
        Glibc.close(fd)
        closed = true
        try moveIntoPlace(tmp, id: id)
        renamed = true
        return (id, digests)
    }

    func unlinkSync(_ id: String) {
        unlink(path(of: id))
    }
}

/// Writes all of `raw` to `fd`, retrying short writes and EINTR.
func writeFully(_ fd: Int32, _ raw: UnsafeRawBufferPointer) throws {
    var off = 0
    while off < raw.count {
        let n = Glibc.write(fd, raw.baseAddress! + off, raw.count - off)
        if n < 0 {
            if errno == EINTR { continue }
            throw StorageError.io("write: \(String(cString: strerror(errno)))")
        }
        off += n
    }
}
