import Foundation
import Logging
import MaxIOCore
import Synchronization

/// One rule of a bucket's lifecycle configuration, as validated by the S3 front.
package struct LifecycleRule: Sendable, Equatable, Codable {
    package var id: String?
    package var enabled: Bool
    /// The filter: all given conditions must hold.
    package var prefix: String
    package var tags: [Tag]
    package var sizeGreaterThan: Int64?
    package var sizeLessThan: Int64?
    /// The filter was written as legacy `<Prefix>` directly in the rule (rendered back the same way).
    package var legacyPrefix: Bool
    package var expirationDays: Int?
    package var expirationDate: Date?
    package var expiredObjectDeleteMarker: Bool
    package var noncurrentDays: Int?
    package var newerNoncurrentVersions: Int?
    package var abortIncompleteDays: Int?

    package init(
        id: String?, enabled: Bool, prefix: String = "", tags: [Tag] = [], sizeGreaterThan: Int64? = nil,
        sizeLessThan: Int64? = nil, legacyPrefix: Bool = false, expirationDays: Int? = nil,
        expirationDate: Date? = nil, expiredObjectDeleteMarker: Bool = false, noncurrentDays: Int? = nil,
        newerNoncurrentVersions: Int? = nil, abortIncompleteDays: Int? = nil
    ) {
        self.id = id
        self.enabled = enabled
        self.prefix = prefix
        self.tags = tags
        self.sizeGreaterThan = sizeGreaterThan
        self.sizeLessThan = sizeLessThan
        self.legacyPrefix = legacyPrefix
        self.expirationDays = expirationDays
        self.expirationDate = expirationDate
        self.expiredObjectDeleteMarker = expiredObjectDeleteMarker
        self.noncurrentDays = noncurrentDays
        self.newerNoncurrentVersions = newerNoncurrentVersions
        self.abortIncompleteDays = abortIncompleteDays
    }

    /// Whether the filter selects a version with this key, size and tags.
    package func matches(key: String, size: Int64, tags objectTags: [Tag]) -> Bool {
        guard key.hasPrefix(prefix) else { return false }
        if let gt = sizeGreaterThan, !(size > gt) { return false }
        if let lt = sizeLessThan, !(size < lt) { return false }
        for t in tags where !objectTags.contains(t) { return false }
        return true
    }
}

/// What one lifecycle pass did.
package struct LifecycleReport: Sendable, Equatable {
    package var buckets = 0
    /// Latest versions expired (removed, or hidden behind a delete marker in a versioned bucket).
    package var expired = 0
    /// Older versions and delete markers removed for good.
    package var removedVersions = 0
    package var removedDeleteMarkers = 0
    package var abortedUploads = 0
    /// Versions a rule selected but Object Lock kept.
    package var skippedLocked = 0

    package init() {}
}

/// Applies buckets' lifecycle rules: scans each bucket in key order in bounded batches (one read each), and
/// removes what the rules select through `ObjectService`, one transaction per object, so Object Lock and the
/// commit protocol apply as for a client's request.
package struct LifecycleService: Sendable {
    package let objects: ObjectService
    /// Seconds in a lifecycle "day" (86400; tests shorten it).
    package let dayLength: TimeInterval
    package let logger: Logger
    package var batch = 500

    package init(objects: ObjectService, dayLength: TimeInterval = 86400, logger: Logger) {
        self.objects = objects
        self.dayLength = dayLength
        self.logger = logger
    }

    var metadata: any MetadataStore { objects.metadata }

    package func runOnce(now: Date = Date()) async throws -> LifecycleReport {
        var report = LifecycleReport()
        for (bucket, rules) in try await metadata.lifecycleConfigurations() {
            let active = rules.filter(\.enabled)
            guard !active.isEmpty else { continue }
            report.buckets += 1
            do {
                try await apply(active, bucket: bucket, now: now, report: &report)
            } catch StorageError.noSuchBucket {
                continue  // deleted meanwhile
            } catch {
                // One bucket's trouble does not stop the others.
                logger.error(
                    "lifecycle pass failed for a bucket",
                    metadata: ["bucket": "\(bucket)", "error": "\(String(reflecting: error))"])
            }
        }
        if report != LifecycleReport() {
            logger.notice(
                "lifecycle pass",
                metadata: [
                    "buckets": "\(report.buckets)", "expired": "\(report.expired)",
                    "removed_versions": "\(report.removedVersions)",
                    "removed_delete_markers": "\(report.removedDeleteMarkers)",
                    "aborted_uploads": "\(report.abortedUploads)", "skipped_locked": "\(report.skippedLocked)",
                ])
        }
        return report
    }

    /// When `days` lifecycle days after `start` come: with real days, rounded up to the next midnight UTC, as AWS
    /// counts (and as `x-amz-expiration` announces).
    func dueDate(after start: Date, days: Int) -> Date {
        LifecycleCache.dueDate(start, days: days, dayLength: dayLength)
    }

    func apply(_ rules: [LifecycleRule], bucket: String, now: Date, report: inout LifecycleReport) async throws {
        let current = rules.filter {
            $0.expirationDays != nil || $0.expirationDate != nil || $0.expiredObjectDeleteMarker
        }
        if !current.isEmpty {
            var after: String?
            while true {
                let page = try await metadata.scanLatest(bucket: bucket, after: after, limit: batch)
                for r in page { try await expireLatest(r, rules: current, now: now, report: &report) }
                guard page.count == batch, let last = page.last else { break }
                after = last.key
            }
        }
        let noncurrent = rules.filter { $0.noncurrentDays != nil || $0.newerNoncurrentVersions != nil }
        if !noncurrent.isEmpty {
            var after: String?
            while true {
                let keys = try await metadata.keysWithOlderVersions(bucket: bucket, after: after, limit: batch)
                for key in keys {
                    try await expireOlder(bucket: bucket, key: key, rules: noncurrent, now: now, report: &report)
                }
                guard keys.count == batch, let last = keys.last else { break }
                after = last
            }
        }
        for rule in rules {
            guard let days = rule.abortIncompleteDays else { continue }
            let before = now.addingTimeInterval(-Double(days) * dayLength)
            for u in try await metadata.staleUploads(before: before, limit: 100_000, bucket: bucket) {
                guard u.key.hasPrefix(rule.prefix) else { continue }
                do {
                    try await objects.abortUpload(bucket: bucket, key: u.key, uploadID: u.uploadID)
                    report.abortedUploads += 1
                } catch StorageError.noSuchUpload {
                    continue
                }
            }
        }
    }

    func expireLatest(_ r: ObjectRecord, rules: [LifecycleRule], now: Date, report: inout LifecycleReport) async throws
    {
        if r.isDeleteMarker {
            // A delete marker with no older versions left is useless: ExpiredObjectDeleteMarker removes it, and so
            // does any rule that expires latest versions (as AWS documents).
            // Expiration rules only once the marker itself is as old as they say.
            let selected = rules.contains { rule in
                guard rule.matches(key: r.key, size: 0, tags: []) else { return false }
                if rule.expiredObjectDeleteMarker { return true }
                if let d = rule.expirationDays { return now >= dueDate(after: r.lastModified, days: d) }
                if let date = rule.expirationDate { return now >= date }
                return false
            }
            guard selected else { return }
            let versions = try await metadata.versionsOfKey(bucket: r.bucket, key: r.key)
            guard versions.count == 1 else { return }
            // Only this marker: a write since the scan (a new null version, say) is left alone.
            let target = DeleteTarget(key: r.key, versionID: VersionID.display(r.versionID), expectedSeq: r.seq)
            if try await objects.delete(bucket: r.bucket, targets: [target])[0].error == nil {
                report.removedDeleteMarkers += 1
            }
            return
        }
        let due = rules.contains { rule in
            guard rule.matches(key: r.key, size: r.size, tags: r.meta.tags) else { return false }
            if let d = rule.expirationDays, now >= dueDate(after: r.lastModified, days: d) { return true }
            if let date = rule.expirationDate, now >= date { return true }
            return false
        }
        guard due else { return }
        // Only the version that was scanned, by identity (its seq): a write since then, even of the same bytes,
        // is left alone.
        let target = DeleteTarget(key: r.key, versionID: nil, expectedSeq: r.seq)
        if try await objects.delete(bucket: r.bucket, targets: [target])[0].error == nil { report.expired += 1 }
    }

    func expireOlder(bucket: String, key: String, rules: [LifecycleRule], now: Date, report: inout LifecycleReport)
        async throws
    {
        let versions = try await metadata.versionsOfKey(bucket: bucket, key: key)
        guard versions.count > 1 else { return }
        // versions[0] is the latest; versions[i] became noncurrent when versions[i - 1] was written.
        for i in 1..<versions.count {
            let v = versions[i]
            let successor = versions[i - 1].lastModified
            let due = rules.contains { rule in
                guard rule.matches(key: key, size: v.size, tags: v.meta.tags) else { return false }
                if let keep = rule.newerNoncurrentVersions, i <= keep { return false }
                if let d = rule.noncurrentDays { return now >= dueDate(after: successor, days: d) }
                return true
            }
            guard due else { continue }
            let target = DeleteTarget(
                key: key, versionID: VersionID.display(v.versionID), onlyIfNoncurrent: true, expectedSeq: v.seq)
            let outcome = try await objects.delete(bucket: bucket, targets: [target])[0]
            switch outcome.error {
            case nil:
                if v.isDeleteMarker { report.removedDeleteMarkers += 1 } else { report.removedVersions += 1 }
            case .objectLocked?:
                report.skippedLocked += 1
            default:
                continue  // became the latest version since the scan
            }
        }
    }
}

/// The lifecycle rules of buckets as last read or written by this process, for the `x-amz-expiration` header of
/// GET/HEAD/PUT without a catalog read per request. Configuration changes made through this process update it;
/// entries expire after `ttl` seconds so changes made elsewhere (another node, the admin command) show up.
package final class LifecycleCache: Sendable {
    private struct Entry {
        var rules: [LifecycleRule]
        var loaded: Date
    }
    private let entries = Mutex<[String: Entry]>([:])
    let ttl: TimeInterval

    package init(ttl: TimeInterval = 30) { self.ttl = ttl }

    package func rules(for bucket: String, now: Date = Date()) -> [LifecycleRule]? {
        entries.withLock { e in
            guard let entry = e[bucket], now.timeIntervalSince(entry.loaded) < ttl else { return nil }
            return entry.rules
        }
    }

    package func set(_ rules: [LifecycleRule]?, for bucket: String, now: Date = Date()) {
        entries.withLock { $0[bucket] = Entry(rules: rules ?? [], loaded: now) }
    }

    package func forget(_ bucket: String) {
        entries.withLock { $0[bucket] = nil }
    }

    /// `days` lifecycle days after `start`; with real days rounded up to the next midnight UTC (AWS's rule).
    package static func dueDate(_ start: Date, days: Int, dayLength: TimeInterval) -> Date {
        let due = start.timeIntervalSince1970 + Double(days) * dayLength
        return Date(timeIntervalSince1970: dayLength == 86400 ? (due / 86400).rounded(.up) * 86400 : due)
    }

    /// `x-amz-expiration` for the latest version of an object: the earliest expiration a matching enabled rule
    /// gives it (Days are counted from the write and rounded up to the next midnight UTC, as AWS does).
    package static func expiration(
        of record: ObjectRecord, rules: [LifecycleRule], dayLength: TimeInterval = 86400
    ) -> (date: Date, ruleID: String)? {
        guard !record.isDeleteMarker else { return nil }
        var best: (Date, String)?
        for rule in rules where rule.enabled {
            guard rule.matches(key: record.key, size: record.size, tags: record.meta.tags) else { continue }
            var date: Date?
            if let d = rule.expirationDays {
                date = dueDate(record.lastModified, days: d, dayLength: dayLength)
            } else if let d = rule.expirationDate {
                date = d
            }
            if let date, best == nil || date < best!.0 { best = (date, rule.id ?? "") }
        }
        return best.map { (date: $0.0, ruleID: $0.1) }
    }
}
