import Foundation
import GRDB
import MaxIOCore
import MaxIOStorage

/// Writes, deletes and version listings. `objects` holds the latest version of each key (possibly a delete
/// marker); `object_versions` the older ones, ordered by `seq` (newest first).
extension SQLiteMetadataStore {
    private static let versionColumns =
        "bucket, key, seq, version_id, size, etag, last_modified, storage_class, blob_id, meta, parts, delete_marker"

    /// The bucket's versioning state, or `noSuchBucket`.
    static func versioning(_ db: Database, _ bucket: String) throws -> VersioningState {
        try bucketState(db, bucket).0
    }

    /// The bucket's versioning state and Object Lock configuration, or `noSuchBucket`.
    static func bucketState(_ db: Database, _ bucket: String) throws -> (VersioningState, ObjectLockConfig?) {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT versioning, object_lock FROM buckets WHERE name = ?"),
                arguments: [bucket])
        else { throw StorageError.noSuchBucket }
        // A configuration that does not decode is an error, never "no Object Lock" (that would lift the lock).
        let lock = try (row["object_lock"] as Data?).map { try JSONDecoder().decode(ObjectLockConfig.self, from: $0) }
        return (VersioningState(rawValue: row["versioning"]) ?? .unversioned, lock)
    }

    package func setVersioning(bucket: String, state: VersioningState) async throws {
        try await pool.write { db in
            let (_, lock) = try Self.bucketState(db, bucket)
            if lock?.enabled == true && state != .enabled {
                throw StorageError.invalidBucketState(
                    "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed."
                )
            }
            let (before, _) = try Self.bucketState(db, bucket)
            try db.execute(
                sql: "UPDATE buckets SET versioning = ? WHERE name = ?", arguments: [state.rawValue, bucket])
            if before == .unversioned {
                // Objects written before versioning are the null version from now on (x-amz-version-id: null).
                try db.execute(
                    sql: "UPDATE objects SET version_id = 'null' WHERE bucket = ? AND version_id = ''",
                    arguments: [bucket])
            }
        }
    }

    package func setBucketTags(bucket: String, tags: [Tag]?) async throws {
        let data = try tags.map { try JSONEncoder().encode($0) }
        try await pool.write { db in
            _ = try Self.versioning(db, bucket)
            try db.execute(sql: "UPDATE buckets SET tags = ? WHERE name = ?", arguments: [data, bucket])
        }
    }

    package func setObjectLock(bucket: String, config: ObjectLockConfig) async throws {
        let data = try JSONEncoder().encode(config)
        try await pool.write { db in
            let (state, _) = try Self.bucketState(db, bucket)
            guard state == .enabled else {
                throw StorageError.invalidBucketState(
                    "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
            }
            try db.execute(sql: "UPDATE buckets SET object_lock = ? WHERE name = ?", arguments: [data, bucket])
        }
    }

    package func updateObject(
        bucket: String, key: String, versionID: String?,
        change: @Sendable (inout ObjectMeta, ObjectLockConfig?) throws -> Void
    ) async throws -> ObjectRecord {
        try await pool.write { db in
            let (_, lock) = try Self.bucketState(db, bucket)
            let latest = try self.fetchObject(db, bucket: bucket, key: key)
            let found: ObjectRecord?
            if let versionID {
                found = try self.fetchVersion(db, bucket: bucket, key: key, versionID: versionID)
            } else {
                found = latest
            }
            guard var record = found else {
                throw versionID == nil ? StorageError.noSuchKey : StorageError.noSuchVersion
            }
            if record.isDeleteMarker {
                throw StorageError.deleteMarker(
                    versionID: VersionID.display(record.versionID), requested: versionID != nil,
                    lastModified: record.lastModified)
            }
            try change(&record.meta, lock)
            let meta = Data(record.meta.encoded())
            if let latest, latest.seq == record.seq, latest.versionID == record.versionID {
                try db.execute(
                    sql: "UPDATE objects SET meta = ? WHERE bucket = ? AND key = ?",
                    arguments: [meta, bucket, Data(key.utf8)])
            } else {
                try db.execute(
                    sql: "UPDATE object_versions SET meta = ? WHERE bucket = ? AND key = ? AND seq = ?",
                    arguments: [meta, bucket, Data(key.utf8), record.seq])
            }
            return record
        }
    }

    // MARK: writes

    package func putObject(
        _ object: ObjectRecord, condition: WriteCondition?, bodyVerified: Bool, reservation: String?
    ) async throws -> WriteOutcome {
        let meta = Data(object.meta.encoded())
        return try await pool.write { db in
            try self.putWithQuota(
                db, object, meta: meta, condition: condition, bodyVerified: bodyVerified, reservation: reservation)
        }
    }

    package func putObjectSync(
        _ object: ObjectRecord, condition: WriteCondition?, bodyVerified: Bool, reservation: String?
    ) throws -> WriteOutcome {
        let meta = Data(object.meta.encoded())
        return try pool.write { db in
            try self.putWithQuota(
                db, object, meta: meta, condition: condition, bodyVerified: bodyVerified, reservation: reservation)
        }
    }

    /// `put`, checked against the quotas of the bucket and its tenant in the same transaction.
    func putWithQuota(
        _ db: Database, _ object: ObjectRecord, meta: Data, condition: WriteCondition?, bodyVerified: Bool,
        reservation: String?
    ) throws -> WriteOutcome {
        let quota = try Self.quotaState(db, bucket: object.bucket)
        let outcome = try put(db, object, meta: meta, condition: condition, bodyVerified: bodyVerified)
        try Self.settleQuota(db, before: quota, reservation: reservation, now: Date())
        return outcome
    }

    /// A strictly increasing order for the versions of a key: now, or one past the latest.
    private static func nextSeq(after existing: ObjectRecord?, now: Date) -> Int64 {
        let ns = Int64(now.timeIntervalSince1970 * 1_000_000_000)
        return max(ns, (existing?.seq ?? 0) + 1)
    }

    func put(_ db: Database, _ object: ObjectRecord, meta: Data, condition: WriteCondition?, bodyVerified: Bool = true)
        throws -> WriteOutcome
    {
        let (state, lock) = try Self.bucketState(db, object.bucket)
        var record = object
        var meta = meta
        if lock?.enabled == true {
            // New versions get the bucket's default retention unless the request set one.
            if record.meta.lockMode == nil, let (mode, until) = lock?.defaultRetention(from: record.lastModified) {
                record.meta.lockMode = mode
                record.meta.lockRetainUntil = until
                meta = Data(record.meta.encoded())
            }
        } else if record.meta.lockMode != nil || record.meta.legalHold {
            throw StorageError.invalidRequest("Bucket is missing Object Lock Configuration")
        }
        if !bodyVerified && (record.meta.lockMode != nil || record.meta.legalHold) {
            throw StorageError.invalidRequest(
                "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters"
            )
        }
        let existing = try fetchObject(db, bucket: object.bucket, key: object.key)
        // A delete marker is no object for the conditions.
        let visible = existing?.isDeleteMarker == true ? nil : existing
        switch condition {
        case .ifNoneMatchAny?:
            if visible != nil { throw StorageError.preconditionFailed }
        case .ifMatch(let etag)?:
            guard let visible else { throw StorageError.noSuchKey }
            if visible.etag != etag { throw StorageError.preconditionFailed }
        case nil:
            break
        }
        record.isDeleteMarker = false
        let retired = try makeRoom(db, for: &record, replacing: existing, state: state)
        try insertLatest(db, record, meta: meta)
        return WriteOutcome(record: record, retired: retired)
    }

    /// Prepares a new latest version of `record.key`: gives it its version id and order, keeps or removes the
    /// version it replaces as the bucket's versioning says, and returns the records removed for good.
    private func makeRoom(
        _ db: Database, for record: inout ObjectRecord, replacing existing: ObjectRecord?, state: VersioningState
    ) throws -> [ObjectRecord] {
        record.seq = Self.nextSeq(after: existing, now: record.lastModified)
        var retired: [ObjectRecord] = []
        switch state {
        case .unversioned:
            record.versionID = VersionID.unversioned
            if var e = existing {
                try Self.retireManifest(db, &e)
                retired.append(e)
            }
        case .enabled:
            record.versionID = VersionID.new(now: record.lastModified)
            if existing != nil { try archiveLatest(db, bucket: record.bucket, key: record.key) }
        case .suspended:
            record.versionID = VersionID.null
            if var e = existing {
                if e.versionID == VersionID.null || e.versionID == VersionID.unversioned {
                    try Self.retireManifest(db, &e)
                    retired.append(e)
                } else {
                    try archiveLatest(db, bucket: record.bucket, key: record.key)
                }
            }
            // There is one null version at most.
            retired += try removeOlderNullVersion(db, bucket: record.bucket, key: record.key)
        }
        return retired
    }

    private func insertLatest(_ db: Database, _ record: ObjectRecord, meta: Data) throws {
        try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO objects(bucket, key, size, etag, last_modified, storage_class, blob_id, meta,
                    parts, version_id, delete_marker, seq)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            record.bucket, Data(record.key.utf8), record.size, record.etag,
            record.lastModified.timeIntervalSince1970, record.meta.storageClass ?? "STANDARD",
            record.blobID, meta, record.parts, record.versionID, record.isDeleteMarker, record.seq,
        ])
    }

    /// Moves the latest version of a key to `object_versions` (its manifest, if any, stays).
    private func archiveLatest(_ db: Database, bucket: String, key: String) throws {
        try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO object_versions(\(Self.versionColumns))
                SELECT \(Self.versionColumns) FROM objects WHERE bucket = ? AND key = ?
                """
        ).execute(arguments: [bucket, Data(key.utf8)])
        try db.cachedStatement(sql: "DELETE FROM objects WHERE bucket = ? AND key = ?").execute(arguments: [
            bucket, Data(key.utf8),
        ])
    }

    /// Removes an older null version of a key (written before versioning, or while it was suspended).
    private func removeOlderNullVersion(_ db: Database, bucket: String, key: String) throws -> [ObjectRecord] {
        var removed: [ObjectRecord] = []
        for row in try Row.fetchAll(
            db.cachedStatement(
                sql: "SELECT * FROM object_versions WHERE bucket = ? AND key = ? AND version_id IN ('', 'null')"),
            arguments: [bucket, Data(key.utf8)])
        {
            var r = try objectRecord(row, bucket: bucket)
            try Self.retireManifest(db, &r)
            removed.append(r)
        }
        if !removed.isEmpty {
            try db.cachedStatement(
                sql: "DELETE FROM object_versions WHERE bucket = ? AND key = ? AND version_id IN ('', 'null')"
            ).execute(arguments: [bucket, Data(key.utf8)])
        }
        return removed
    }

    // MARK: reads of one version

    package func objectVersion(bucket: String, key: String, versionID: String) async throws -> ObjectRecord? {
        try await pool.read { db in
            _ = try Self.versioning(db, bucket)
            return try self.fetchVersion(db, bucket: bucket, key: key, versionID: versionID)
        }
    }

    /// A version of a key, latest or older; `null` names the null version (stored as `""` or `null`).
    func fetchVersion(_ db: Database, bucket: String, key: String, versionID: String) throws -> ObjectRecord? {
        let ids = versionID == VersionID.null ? [VersionID.unversioned, VersionID.null] : [versionID]
        for id in ids {
            if let r = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM objects WHERE bucket = ? AND key = ? AND version_id = ?"),
                arguments: [bucket, Data(key.utf8), id])
            {
                return try objectRecord(r, bucket: bucket)
            }
            if let r = try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT * FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ?"),
                arguments: [bucket, Data(key.utf8), id])
            {
                return try objectRecord(r, bucket: bucket)
            }
        }
        return nil
    }

    // MARK: deletes

    package func deleteObject(
        bucket: String, key: String, versionID: String?, ifMatch: String?, bypassGovernance: Bool
    ) async throws -> DeleteOutcome {
        try await pool.write { db in
            let state = try Self.versioning(db, bucket)
            return try self.delete(
                db, bucket: bucket, key: key, versionID: versionID, ifMatch: ifMatch, state: state,
                bypassGovernance: bypassGovernance)
        }
    }

    package func deleteObjectSync(bucket: String, key: String, ifMatch: String?) throws -> DeleteOutcome {
        try pool.write { db in
            let state = try Self.versioning(db, bucket)
            return try self.delete(
                db, bucket: bucket, key: key, versionID: nil, ifMatch: ifMatch, state: state, bypassGovernance: false)
        }
    }

    package func deleteObjects(bucket: String, targets: [DeleteTarget], bypassGovernance: Bool) async throws
        -> [DeleteOutcome]
    {
        try await pool.write { db in
            let state = try Self.versioning(db, bucket)
            return try targets.map { t in
                do {
                    if t.versionID == nil, let seq = t.expectedSeq {
                        // The latest version must still be the one that was read (not a rewrite since).
                        let latest = try self.fetchObject(db, bucket: bucket, key: t.key)
                        if latest == nil || latest?.seq != seq || latest?.isDeleteMarker == true {
                            return DeleteOutcome(
                                versionID: nil, deleteMarker: false, retired: [], error: .preconditionFailed)
                        }
                    }
                    if let v = t.versionID, t.onlyIfNoncurrent || t.expectedSeq != nil {
                        let latest = try self.fetchObject(db, bucket: bucket, key: t.key)
                        let current = try self.fetchVersion(db, bucket: bucket, key: t.key, versionID: v)
                        let isLatest = latest.map { VersionID.display($0.versionID) == VersionID.display(v) } ?? false
                        if (t.onlyIfNoncurrent && isLatest) || (t.expectedSeq != nil && current?.seq != t.expectedSeq) {
                            return DeleteOutcome(
                                versionID: v, deleteMarker: false, retired: [], error: .preconditionFailed)
                        }
                    }
                    return try self.delete(
                        db, bucket: bucket, key: t.key, versionID: t.versionID, ifMatch: nil, state: state,
                        bypassGovernance: bypassGovernance)
                } catch let e as StorageError {
                    if case .objectLocked = e {
                        return DeleteOutcome(versionID: t.versionID, deleteMarker: false, retired: [], error: e)
                    }
                    throw e
                }
            }
        }
    }

    private func delete(
        _ db: Database, bucket: String, key: String, versionID: String?, ifMatch: String?, state: VersioningState,
        bypassGovernance: Bool
    ) throws -> DeleteOutcome {
        let existing = try fetchObject(db, bucket: bucket, key: key)
        if let versionID {
            return try deleteVersion(
                db, bucket: bucket, key: key, versionID: versionID, latest: existing, ifMatch: ifMatch,
                bypassGovernance: bypassGovernance)
        }
        let visible = existing?.isDeleteMarker == true ? nil : existing
        if let ifMatch {
            guard let visible else { throw StorageError.noSuchKey }
            if ifMatch != "*" && ifMatch != visible.etag { throw StorageError.preconditionFailed }
        }
        guard state != .unversioned else {
            guard var e = existing else { return DeleteOutcome(versionID: nil, deleteMarker: false, retired: []) }
            try db.cachedStatement(sql: "DELETE FROM objects WHERE bucket = ? AND key = ?").execute(arguments: [
                bucket, Data(key.utf8),
            ])
            try Self.retireManifest(db, &e)
            return DeleteOutcome(versionID: nil, deleteMarker: false, retired: [e])
        }
        // A versioned bucket keeps the data and hides the key behind a new delete marker.
        var marker = ObjectRecord(
            bucket: bucket, key: key, size: 0, etag: "", lastModified: Date(), blobID: "", meta: ObjectMeta())
        marker.isDeleteMarker = true
        let retired = try makeRoom(db, for: &marker, replacing: existing, state: state)
        try insertLatest(db, marker, meta: Data(marker.meta.encoded()))
        return DeleteOutcome(versionID: marker.versionID, deleteMarker: true, retired: retired)
    }

    /// Removes one version for good. When it is the latest, the newest older version becomes the latest.
    /// A version that does not exist is no error (as AWS: the delete is idempotent).
    private func deleteVersion(
        _ db: Database, bucket: String, key: String, versionID: String, latest: ObjectRecord?, ifMatch: String?,
        bypassGovernance: Bool
    ) throws -> DeleteOutcome {
        guard var victim = try fetchVersion(db, bucket: bucket, key: key, versionID: versionID) else {
            if ifMatch != nil { throw StorageError.noSuchKey }
            return DeleteOutcome(versionID: versionID, deleteMarker: false, retired: [])
        }
        if let ifMatch, ifMatch != "*", victim.isDeleteMarker || ifMatch != victim.etag {
            throw StorageError.preconditionFailed
        }
        if !victim.isDeleteMarker {
            try ObjectLockRules.checkDeletable(victim.meta, bypassGovernance: bypassGovernance, now: Date())
        }
        if let latest, latest.versionID == victim.versionID, latest.seq == victim.seq {
            try db.cachedStatement(sql: "DELETE FROM objects WHERE bucket = ? AND key = ?").execute(arguments: [
                bucket, Data(key.utf8),
            ])
            // Promote the newest older version.
            if let seq = try Int64.fetchOne(
                db.cachedStatement(
                    sql: "SELECT seq FROM object_versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1"),
                arguments: [bucket, Data(key.utf8)])
            {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO objects(\(Self.versionColumns))
                        SELECT \(Self.versionColumns) FROM object_versions WHERE bucket = ? AND key = ? AND seq = ?
                        """
                ).execute(arguments: [bucket, Data(key.utf8), seq])
                try db.cachedStatement(sql: "DELETE FROM object_versions WHERE bucket = ? AND key = ? AND seq = ?")
                    .execute(arguments: [bucket, Data(key.utf8), seq])
            }
        } else {
            try db.cachedStatement(sql: "DELETE FROM object_versions WHERE bucket = ? AND key = ? AND seq = ?")
                .execute(arguments: [bucket, Data(key.utf8), victim.seq])
        }
        try Self.retireManifest(db, &victim)
        return DeleteOutcome(
            versionID: VersionID.display(victim.versionID), deleteMarker: victim.isDeleteMarker, retired: [victim])
    }

    // MARK: ListObjectVersions

    private static let listColumns =
        "key, seq, version_id, size, etag, last_modified, storage_class, delete_marker"

    package func listVersions(bucket: String, query q: VersionsQuery) async throws -> VersionsPage {
        try await pool.read { db in
            _ = try Self.versioning(db, bucket)
            return try self.versions(db, bucket: bucket, query: q)
        }
    }

    private enum Cursor {
        /// Keys from `key` on (inclusive or not).
        case keys(key: [UInt8], inclusive: Bool)
        /// The remaining (older) versions of `key` below `seq`, then the keys after it.
        case within(key: [UInt8], below: Int64)
    }

    private func versions(_ db: Database, bucket: String, query q: VersionsQuery) throws -> VersionsPage {
        var page = VersionsPage()
        guard q.maxKeys > 0 else { return page }
        let prefix = Array(q.prefix.utf8)
        let upper = prefix.isEmpty ? nil : bytePrefixSuccessor(prefix)
        let delimiter = q.delimiter.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        let marker = q.keyMarker.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        var cursor = Cursor.keys(key: prefix, inclusive: true)
        if let marker, !marker.lexicographicallyPrecedes(prefix) {
            cursor = .keys(key: marker, inclusive: false)
            if let id = q.versionIDMarker, !id.isEmpty,
                let v = try fetchVersion(db, bucket: bucket, key: q.keyMarker!, versionID: id)
            {
                cursor = .within(key: marker, below: v.seq)
            }
        }
        let batch = min(q.maxKeys + 1, 1000)
        var count = 0
        var lastVersion: ListedVersion?
        var lastPrefix: String?
        let columns = Self.listColumns + (q.withACLs ? ", meta" : "")
        let latestSQL = "SELECT \(columns), 1 AS latest FROM objects WHERE bucket = ?"
        let olderSQL = "SELECT \(columns), 0 AS latest FROM object_versions WHERE bucket = ?"
        scan: while true {
            let rows: [Row]
            var args: StatementArguments
            switch cursor {
            case .within(let key, let below):
                args = [bucket, Data(key), below, bucket, Data(key), below, batch]
                rows = try Row.fetchAll(
                    db,
                    sql: """
                        \(latestSQL) AND key = ? AND seq < ?
                        UNION ALL \(olderSQL) AND key = ? AND seq < ?
                        ORDER BY seq DESC LIMIT ?
                        """, arguments: args)
            case .keys(let key, let inclusive):
                let op = inclusive ? ">=" : ">"
                var bound = "key \(op) ?"
                args = [bucket, Data(key)]
                if let upper {
                    bound += " AND key < ?"
                    _ = args.append(contentsOf: [Data(upper)])
                }
                var all = args
                _ = all.append(contentsOf: args)
                _ = all.append(contentsOf: [batch])
                rows = try Row.fetchAll(
                    db,
                    sql: """
                        \(latestSQL) AND \(bound)
                        UNION ALL \(olderSQL) AND \(bound)
                        ORDER BY key, seq DESC LIMIT ?
                        """, arguments: all)
            }
            for row in rows {
                let keyData: Data = row["key"]
                let key = Array(keyData)
                let seq: Int64 = row["seq"]
                cursor = .within(key: key, below: seq)
                if let delimiter,
                    let cp = Self.commonPrefix(key, prefixCount: prefix.count, delimiter: delimiter)
                {
                    guard let next = bytePrefixSuccessor(cp) else { break scan }
                    cursor = .keys(key: next, inclusive: true)
                    if let marker, !marker.lexicographicallyPrecedes(cp) { continue scan }
                    if count == q.maxKeys {
                        page.isTruncated = true
                        break scan
                    }
                    let s = String(decoding: cp, as: UTF8.self)
                    page.commonPrefixes.append(s)
                    lastPrefix = s
                    lastVersion = nil
                    count += 1
                    continue scan
                }
                if count == q.maxKeys {
                    page.isTruncated = true
                    break scan
                }
                var v = ListedVersion(
                    key: String(decoding: key, as: UTF8.self), versionID: VersionID.display(row["version_id"]),
                    isLatest: row["latest"], isDeleteMarker: row["delete_marker"], size: row["size"],
                    etag: row["etag"], lastModified: Date(timeIntervalSince1970: row["last_modified"]),
                    storageClass: row["storage_class"])
                if q.withACLs, let meta = row["meta"] as Data? { v.acl = ObjectMeta(encoded: meta)?.acl }
                page.versions.append(v)
                lastVersion = v
                lastPrefix = nil
                count += 1
            }
            if rows.count < batch {
                // A key's remaining versions are done: go on with the keys after it.
                if case .within(let key, _) = cursor {
                    cursor = .keys(key: key, inclusive: false)
                    continue scan
                }
                break
            }
        }
        if page.isTruncated {
            page.nextKeyMarker = lastVersion?.key ?? lastPrefix
            page.nextVersionIDMarker = lastVersion?.versionID
        }
        return page
    }
}
