import Foundation
import Logging
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
}
