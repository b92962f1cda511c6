import Foundation
import GRDB
import MaxIOCore
import MaxIOStorage

/// Quotas: a reservation is taken in a write transaction before a body is read; the write that stores the
/// bytes checks the quota again in its own transaction (usage is kept by triggers), so no interleaving of
/// concurrent writes can take usage over a quota.
extension SQLiteMetadataStore {
    /// A bucket's quotas and usage before a write; nil when no quota applies.
    struct QuotaState {
        var bucket: String
        var tenant: String
        var maxBytes: Int64
        var maxObjects: Int64
        var tenantMaxBytes: Int64
        var usedBytes: Int64
        var objectCount: Int64
    }

    static func quotaState(_ db: Database, bucket: String) throws -> QuotaState? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT tenant, max_bytes, max_objects, used_bytes, object_count FROM buckets WHERE name = ?"),
                arguments: [bucket])
        else { throw StorageError.noSuchBucket }
        let tenant: String = row["tenant"]
        var tenantMax: Int64 = 0
        if !tenant.isEmpty {
            tenantMax =
                try Int64.fetchOne(
                    db.cachedStatement(sql: "SELECT max_storage_bytes FROM tenants WHERE id = ?"), arguments: [tenant])
                ?? 0
        }
        let q = QuotaState(
            bucket: bucket, tenant: tenant, maxBytes: row["max_bytes"], maxObjects: row["max_objects"],
            tenantMaxBytes: tenantMax, usedBytes: row["used_bytes"], objectCount: row["object_count"])
        return q.maxBytes > 0 || q.maxObjects > 0 || q.tenantMaxBytes > 0 ? q : nil
    }

    /// Refuses when usage now, plus live reservations, plus `bytes`/`objects` exceeds a quota. Byte quotas are
    /// checked when `checkBytes`, object quotas when `checkObjects`.
    static func checkQuota(
        _ db: Database, _ q: QuotaState, bytes: Int64, objects: Int64, checkBytes: Bool, checkObjects: Bool, now: Date
    ) throws {
        let t = now.timeIntervalSince1970
        if checkBytes && q.maxBytes > 0 || checkObjects && q.maxObjects > 0 {
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT b.used_bytes AS used, b.object_count AS count,
                            (SELECT COALESCE(SUM(bytes), 0) FROM quota_reservations WHERE bucket = b.name AND expires_at > ?) AS rb,
                            (SELECT COALESCE(SUM(objects), 0) FROM quota_reservations WHERE bucket = b.name AND expires_at > ?) AS ro
                        FROM buckets b WHERE b.name = ?
                        """), arguments: [t, t, q.bucket])
            let used: Int64 = row?["used"] ?? 0
            let count: Int64 = row?["count"] ?? 0
            let rb: Int64 = row?["rb"] ?? 0
            let ro: Int64 = row?["ro"] ?? 0
            if checkBytes && q.maxBytes > 0 && used + rb + bytes > q.maxBytes {
                throw StorageError.quotaExceeded(
                    "The bucket's storage quota (\(q.maxBytes) bytes) would be exceeded.")
            }
            if checkObjects && q.maxObjects > 0 && count + ro + objects > q.maxObjects {
                throw StorageError.quotaExceeded(
                    "The bucket's object quota (\(q.maxObjects) objects) would be exceeded.")
            }
        }
        if checkBytes && q.tenantMaxBytes > 0 {
            let used =
                try Int64.fetchOne(
                    db.cachedStatement(sql: "SELECT COALESCE(SUM(used_bytes), 0) FROM buckets WHERE tenant = ?"),
                    arguments: [q.tenant]) ?? 0
            let reserved =
                try Int64.fetchOne(
                    db.cachedStatement(
                        sql:
                            "SELECT COALESCE(SUM(bytes), 0) FROM quota_reservations WHERE tenant = ? AND expires_at > ?"
                    ),
                    arguments: [q.tenant, t]) ?? 0
            if used + reserved + bytes > q.tenantMaxBytes {
                throw StorageError.quotaExceeded(
                    "The tenant's storage quota (\(q.tenantMaxBytes) bytes) would be exceeded.")
            }
        }
    }

    /// After a write in the same transaction: consumes its reservation and, if the write grew usage, checks
    /// that usage with the other live reservations still fits every quota (else the transaction rolls back).
    static func settleQuota(_ db: Database, before q: QuotaState?, reservation: String?, now: Date) throws {
        if let reservation {
            try db.cachedStatement(sql: "DELETE FROM quota_reservations WHERE id = ?").execute(arguments: [reservation])
        }
        guard let q,
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT used_bytes, object_count FROM buckets WHERE name = ?"),
                arguments: [q.bucket])
        else { return }
        let grewBytes: Int64 = row["used_bytes"] - q.usedBytes
        let grewObjects: Int64 = row["object_count"] - q.objectCount
        if grewBytes > 0 || grewObjects > 0 {
            // Usage already includes this write: nothing to add.
            try checkQuota(
                db, q, bytes: 0, objects: 0, checkBytes: grewBytes > 0, checkObjects: grewObjects > 0, now: now)
        }
    }

    package func reserve(bucket: String, replacing key: String?, bytes: Int64, objects: Int64, ttl: TimeInterval)
        async throws -> String?
    {
        try await pool.write { db in
            let now = Date()
            guard let q = try Self.quotaState(db, bucket: bucket) else { return nil }
            var bytes = bytes
            var objects = objects
            if let key, let latest = try self.fetchObject(db, bucket: bucket, key: key), !latest.isDeleteMarker {
                let state = try Self.versioning(db, bucket)
                let replaced =
                    state == .unversioned
                    || (state == .suspended
                        && (latest.versionID == VersionID.null || latest.versionID == VersionID.unversioned))
                if replaced {
                    bytes = max(0, bytes - latest.size)
                    objects = max(0, objects - 1)
                }
            }
            try db.cachedStatement(sql: "DELETE FROM quota_reservations WHERE expires_at <= ?").execute(arguments: [
                now.timeIntervalSince1970
            ])
            try Self.checkQuota(
                db, q, bytes: bytes, objects: objects, checkBytes: bytes > 0, checkObjects: objects > 0, now: now)
            let id = randomHexID(bytes: 12)
            try db.cachedStatement(
                sql:
                    "INSERT INTO quota_reservations(id, bucket, tenant, bytes, objects, expires_at) VALUES (?, ?, ?, ?, ?, ?)"
            ).execute(arguments: [id, bucket, q.tenant, bytes, objects, now.timeIntervalSince1970 + ttl])
            return id
        }
    }

    package func releaseReservation(_ id: String) async throws {
        try await pool.write { db in
            try db.cachedStatement(sql: "DELETE FROM quota_reservations WHERE id = ?").execute(arguments: [id])
        }
    }

    package func setBucketQuota(bucket: String, maxBytes: Int64, maxObjects: Int64) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE buckets SET max_bytes = ?, max_objects = ? WHERE name = ?",
                arguments: [maxBytes, maxObjects, bucket])
            if db.changesCount == 0 { throw StorageError.noSuchBucket }
        }
    }

    package func setBucketSetting(bucket: String, _ setting: BucketSetting, value: String?) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE buckets SET \(setting.rawValue) = ? WHERE name = ?", arguments: [value, bucket])
            if db.changesCount == 0 { throw StorageError.noSuchBucket }
        }
    }
}
