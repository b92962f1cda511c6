import Foundation
import Logging
import MaxIOIAM
import MaxIOSQLite
import MaxIOStorage

/// Operator commands that work on a data directory directly (the server may be running: SQLite serialises
/// the catalog writes, and each abort is one transaction that a concurrent completion either precedes or fails).
package enum Admin {
    /// Parses `7d`, `12h`, `30m`, `90s` or plain seconds.
    package static func parseDuration(_ text: String) -> TimeInterval? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let unit = t.last else { return nil }
        let factors: [Character: Double] = ["d": 86400, "h": 3600, "m": 60, "s": 1]
        if let f = factors[unit] {
            guard let n = Double(t.dropLast()), n >= 0 else { return nil }
            return n * f
        }
        guard let n = Double(t), n >= 0 else { return nil }
        return n
    }

    /// One lifecycle pass over a data directory, as the server's background pass makes it.
    package static func runLifecycle(dataDir: String, dayLength: TimeInterval) async throws -> String {
        let path = dataDir + "/meta.sqlite"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError("no MaxIOFS catalog at \(path): check --data-dir")
        }
        let metadata = try SQLiteMetadataStore(path: path, durable: true)
        let blobs = try FileBlobStore(root: dataDir, durable: true, threads: 1)
        let logger = Logger(label: "maxiofs-admin")
        let service = ObjectService(metadata: metadata, blobs: blobs, logger: logger)
        do {
            let r = try await LifecycleService(objects: service, dayLength: dayLength, logger: logger).runOnce()
            await blobs.shutdown()
            return
                "lifecycle: \(r.buckets) bucket(s) with rules; expired \(r.expired), removed \(r.removedVersions) older version(s) and \(r.removedDeleteMarkers) delete marker(s), aborted \(r.abortedUploads) upload(s), kept \(r.skippedLocked) locked version(s)"
        } catch {
            await blobs.shutdown()
            throw error
        }
    }

    package struct UploadSummary: Sendable {
        package var bucket: String
        package var key: String
        package var uploadID: String
        package var initiated: Date
    }

    /// Aborts multipart uploads initiated more than `olderThan` ago (or only lists them with `dryRun`).
    package static func abortStaleUploads(dataDir: String, olderThan: TimeInterval, dryRun: Bool) async throws
        -> [UploadSummary]
    {
        try await staleUploads(dataDir: dataDir, olderThan: olderThan, dryRun: dryRun).map {
            UploadSummary(bucket: $0.bucket, key: $0.key, uploadID: $0.uploadID, initiated: $0.initiated)
        }
    }

    static func staleUploads(dataDir: String, olderThan: TimeInterval, dryRun: Bool) async throws -> [UploadRecord] {
        let path = dataDir + "/meta.sqlite"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError("no MaxIOFS catalog at \(path): check --data-dir")
        }
        let metadata = try SQLiteMetadataStore(path: path, durable: true)
        let before = Date(timeIntervalSinceNow: -olderThan)
        if dryRun { return try await metadata.staleUploads(before: before, limit: 1_000_000, bucket: nil) }
        let blobs = try FileBlobStore(root: dataDir, durable: true, threads: 1)
        let service = ObjectService(metadata: metadata, blobs: blobs, logger: Logger(label: "maxiofs-admin"))
        do {
            let aborted = try await service.abortStaleUploads(before: before)
            await blobs.shutdown()
            return aborted
        } catch {
            await blobs.shutdown()
            throw error
        }
    }

    /// What `maxiofs check` found.
    package struct CheckReport: Sendable {
        package var catalogProblems: [String] = []
        package var referenced = 0
        package var present = 0
        package var missing: [BlobReference] = []
        package var wrongSize: [(reference: BlobReference, actual: Int64)] = []
        package var orphans: [FileBlobStore.BlobFile] = []
        /// Orphans written before the catalog existed (a replaced catalog's data, for example).
        package var orphansOlderThanCatalog = 0
        package var temporary: [String] = []
        package var repaired = false
        package var removed = 0
        /// Orphans and temporary files that `--repair` could not remove (paths relative to the data directory).
        package var notRemoved: Set<String> = []

        /// The report as `maxiofs check` prints it.
        package var lines: [String] {
            var out: [String] = []
            func print(_ s: String) { out.append(s) }
            let r = self
            print(r.catalogProblems.isEmpty ? "catalog: ok" : "catalog: \(r.catalogProblems.count) problem(s)")
            for p in r.catalogProblems { print("catalog problem: \(p)") }
            print("blobs: \(r.referenced) referenced, \(r.present) present")
            for m in r.missing { print("missing: \(m.owner): blob \(m.blobID) (\(m.size) bytes)") }
            for w in r.wrongSize {
                print(
                    "wrong size: \(w.reference.owner): blob \(w.reference.blobID) has \(w.actual) bytes, the catalog says \(w.reference.size)"
                )
            }
            func outcome(_ path: String) -> String {
                guard r.repaired else { return "" }
                return r.notRemoved.contains(path) ? ": could not be removed" : ": removed"
            }
            for o in r.orphans { print("orphan: \(o.path) (\(o.size) bytes)\(outcome(o.path))") }
            if r.orphansOlderThanCatalog > 0 {
                print(
                    "note: \(r.orphansOlderThanCatalog) orphan(s) are older than the catalog: if meta.sqlite was replaced, they may hold the old catalog's objects"
                )
            }
            for t in r.temporary { print("temporary: tmp/\(t)\(outcome("tmp/" + t))") }
            print(
                "summary: \(r.missing.count) missing, \(r.wrongSize.count) wrong size, \(r.orphans.count) orphan(s), \(r.temporary.count) temporary file(s)"
                    + (r.repaired ? ", \(r.removed) file(s) removed" : ""))
            return out
        }

        /// Problems that remain: what `--repair` cannot fix, and orphans or temporary files it was not asked to remove.
        package var clean: Bool {
            catalogProblems.isEmpty && missing.isEmpty && wrongSize.isEmpty
                && (repaired ? notRemoved.isEmpty : (orphans.isEmpty && temporary.isEmpty))
        }
    }

    /// After a master key rotation (the new key configured as the master key, the old one in
    /// `encryption.previous_master_keys`): wraps every server-sealed blob's data key with the new key (only the
    /// blob's header is rewritten) and seals the catalog's secrets again, offline under the data directory's
    /// lock. Afterwards the previous keys can be dropped from the configuration. Safe to run again.
    package static func rewrap(config: ServerConfig) async throws -> (lines: [String], clean: Bool) {
        let dataDir = config.dataDir
        let path = dataDir + "/meta.sqlite"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError("no MaxIOFS catalog at \(path): check --data-dir")
        }
        if config.masterKey == nil && config.masterKeyFile == nil
            && !FileManager.default.fileExists(atPath: dataDir + "/" + MasterKeyLoader.fileName)
        {
            throw ConfigError(
                "no master key: set MAXIOFS_MASTER_KEY or MAXIOFS_MASTER_KEY_FILE (or --config) as for maxiofs serve")
        }
        let lock = try DataDirectoryLock(dataDir: dataDir)
        defer { withExtendedLifetime(lock) {} }
        let master = try MasterKeyLoader.load(config: config)
        let keyring = BlobKeyring(master: master.bytes, previous: config.previousMasterKeys)
        let metadata = try SQLiteMetadataStore(path: path, durable: true)
        let blobs = try FileBlobStore(root: dataDir, durable: config.durable, keyring: keyring, threads: 1)
        var counts: [String: Int] = [:]
        var problems: [String] = []
        for f in blobs.blobFiles() {
            guard let id = f.id else { continue }
            do {
                switch try blobs.rewrapSync(id) {
                case .rewrapped: counts["rewrapped", default: 0] += 1
                case .current: counts["current", default: 0] += 1
                case .notServerSealed: counts["other", default: 0] += 1
                case .unknownKey(let key):
                    problems.append("blob \(id): sealed with server key \(key), which is not configured")
                }
            } catch {
                problems.append("blob \(id): \(error)")
            }
        }
        await blobs.shutdown()
        let secrets = try await IAMService.resealSecrets(
            store: metadata, masterKey: try MasterKey(bytes: master.bytes, previous: config.previousMasterKeys))
        var lines = [
            "master key \(keyring.currentID) (from \(master.source)); \(keyring.previous.count) previous key(s)",
            "blobs: \(counts["rewrapped", default: 0]) rewrapped, \(counts["current", default: 0]) already on the current key, \(counts["other", default: 0]) not sealed with a server key",
            "catalog secrets sealed again: \(secrets)",
        ]
        lines += problems
        lines.append(
            problems.isEmpty
                ? "done: the previous master keys are no longer needed"
                : "\(problems.count) problem(s): keep the previous master keys configured")
        return (lines, problems.isEmpty)
    }

    /// Compares the catalog with the blob files, offline: it holds the data directory's lock, so no server runs
    /// meanwhile. With `repair`, removes the orphans (files no catalog entry refers to) and temporary files;
    /// missing blobs and wrong sizes are reported only.
    package static func check(dataDir: String, repair: Bool) async throws -> CheckReport {
        let path = dataDir + "/meta.sqlite"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError("no MaxIOFS catalog at \(path): check --data-dir")
        }
        let lock = try DataDirectoryLock(dataDir: dataDir)
        defer { withExtendedLifetime(lock) {} }
        let metadata = try SQLiteMetadataStore(path: path, durable: true)
        let blobs = try FileBlobStore(root: dataDir, durable: true, threads: 1)
        do {
            let report = try await check(metadata: metadata, blobs: blobs, repair: repair)
            await blobs.shutdown()
            return report
        } catch {
            await blobs.shutdown()
            throw error
        }
    }

    static func check(metadata: SQLiteMetadataStore, blobs: FileBlobStore, repair: Bool) async throws -> CheckReport {
        var report = CheckReport()
        report.catalogProblems = try await metadata.integrityProblems()
        let references = try await metadata.blobReferences()
        let files = blobs.blobFiles()
        var byID: [String: FileBlobStore.BlobFile] = [:]
        for f in files { if let id = f.id { byID[id] = f } }
        var referenced = Set<String>()
        for r in references {
            referenced.insert(r.blobID)
            guard let f = byID[r.blobID] else {
                report.missing.append(r)
                continue
            }
            // A sealed blob (encrypted) is longer than its plaintext by a header and a tag per chunk.
            // A compressed one has a size of its own.
            if f.size != r.size && !r.compressed
                && !(f.size == SealedLayout.sealedSize(plain: r.size) && blobs.isSealedFile(f.path))
            {
                report.wrongSize.append((r, f.size))
            }
        }
        report.referenced = referenced.count
        report.present = referenced.count - Set(report.missing.map(\.blobID)).count
        let createdAt = try await metadata.createdAt()
        report.orphans = files.filter { f in f.id.map { !referenced.contains($0) } ?? true }.sorted {
            $0.path < $1.path
        }
        report.orphansOlderThanCatalog = report.orphans.filter { $0.modified < createdAt }.count
        report.temporary = blobs.temporaryFiles()
        if repair {
            report.repaired = true
            for path in report.orphans.map(\.path) + report.temporary.map({ "tmp/" + $0 }) {
                if blobs.removeFile(path) { report.removed += 1 } else { report.notRemoved.insert(path) }
            }
        }
        return report
    }

    /// Opens a copy as the server would (and closes it again), checks its integrity, counts what it holds.
    static func verifyCopy(_ path: String) async throws -> CatalogCounts {
        let copy = try SQLiteMetadataStore(path: path, durable: true)
        let problems = try await copy.integrityProblems()
        guard problems.isEmpty else {
            throw ConfigError("the copy failed its integrity check: \(problems.joined(separator: "; "))")
        }
        return try await copy.catalogCounts()
    }

    /// A consistent copy of the catalog, safe while the server runs; verified before it is put in place.
    package static func backupMetadata(dataDir: String, output: String, force: Bool) async throws -> String {
        let path = dataDir + "/meta.sqlite"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError("no MaxIOFS catalog at \(path): check --data-dir")
        }
        let catalog = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let target = URL(fileURLWithPath: output).resolvingSymlinksInPath().path
        if [catalog, catalog + "-wal", catalog + "-shm"].contains(target) {
            throw ConfigError("\(output) is the catalog itself: write the backup somewhere else")
        }
        if FileManager.default.fileExists(atPath: output) && !force {
            throw ConfigError("\(output) exists: choose another file or pass --force to replace it")
        }
        let partial = output + ".partial"
        unlink(partial)
        do {
            try await SQLiteMetadataStore(path: path, durable: true).backup(to: partial)
            let counts = try await verifyCopy(partial)
            guard rename(partial, output) == 0 else {
                throw ConfigError("cannot move the copy to \(output): \(String(cString: strerror(errno)))")
            }
            let c = counts
            return
                "backup: \(output): \(c.buckets) bucket(s), \(c.objects) object(s), \(c.bytes) bytes, \(c.uploads) upload(s), \(c.tenants) tenant(s), \(c.users) user(s), \(c.accessKeys) access key(s)"
        } catch {
            for suffix in ["", "-wal", "-shm"] { unlink(partial + suffix) }
            throw error
        }
    }
}
