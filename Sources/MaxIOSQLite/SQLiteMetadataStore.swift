import Foundation
import GRDB
import MaxIOCore
import MaxIOStorage

/// The embedded catalog: SQLite in WAL mode through GRDB. One transaction per call.
package final class SQLiteMetadataStore: SynchronousMetadataStore {
    let pool: DatabasePool
    let pointReader: PointReader
    private let decoder = JSONDecoder()

    /// - Parameters:
    ///   - path: the database file
    ///   - durable: `synchronous=FULL` when true (an acknowledged write survives a power cut), NORMAL otherwise
    package init(path: String, durable: Bool) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(durable ? "FULL" : "NORMAL")")
            // The usage triggers must also see the rows that INSERT OR REPLACE removes.
            try db.execute(sql: "PRAGMA recursive_triggers = ON")
        }
        pool = try DatabasePool(path: path, configuration: config)
        pointReader = PointReader(path: path)
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE buckets(
                        name TEXT PRIMARY KEY NOT NULL,
                        owner TEXT NOT NULL,
                        region TEXT NOT NULL,
                        created_at DOUBLE NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE objects(
                        bucket TEXT NOT NULL,
                        key BLOB NOT NULL,
                        size INTEGER NOT NULL,
                        etag TEXT NOT NULL,
                        last_modified DOUBLE NOT NULL,
                        storage_class TEXT NOT NULL,
                        blob_id TEXT NOT NULL,
                        meta TEXT NOT NULL,
                        PRIMARY KEY(bucket, key)
                    ) WITHOUT ROWID;
                    """)
        }
        m.registerMigration("v2-multipart") { db in
            try db.execute(
                sql: """
                    ALTER TABLE objects ADD COLUMN parts INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE object_parts(
                        manifest TEXT NOT NULL,
                        number INTEGER NOT NULL,
                        part_offset INTEGER NOT NULL,
                        size INTEGER NOT NULL,
                        blob_id TEXT NOT NULL,
                        etag TEXT NOT NULL,
                        checksum TEXT,
                        PRIMARY KEY(manifest, number)
                    ) WITHOUT ROWID;
                    CREATE TABLE uploads(
                        upload_id TEXT PRIMARY KEY NOT NULL,
                        bucket TEXT NOT NULL,
                        key BLOB NOT NULL,
                        initiated DOUBLE NOT NULL,
                        owner TEXT NOT NULL,
                        meta BLOB NOT NULL,
                        checksum_algorithm TEXT,
                        checksum_type TEXT
                    ) WITHOUT ROWID;
                    CREATE UNIQUE INDEX uploads_by_key ON uploads(bucket, key, upload_id);
                    CREATE INDEX uploads_by_time ON uploads(initiated);
                    CREATE TABLE upload_parts(
                        upload_id TEXT NOT NULL,
                        number INTEGER NOT NULL,
                        size INTEGER NOT NULL,
                        etag TEXT NOT NULL,
                        last_modified DOUBLE NOT NULL,
                        blob_id TEXT NOT NULL,
                        checksum TEXT,
                        PRIMARY KEY(upload_id, number)
                    ) WITHOUT ROWID;
                    """)
        }
        m.registerMigration("v3-versioning") { db in
            try db.execute(
                sql: """
                    ALTER TABLE buckets ADD COLUMN versioning TEXT NOT NULL DEFAULT '';
                    ALTER TABLE objects ADD COLUMN version_id TEXT NOT NULL DEFAULT '';
                    ALTER TABLE objects ADD COLUMN delete_marker INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE objects ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE object_versions(
                        bucket TEXT NOT NULL,
                        key BLOB NOT NULL,
                        seq INTEGER NOT NULL,
                        version_id TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        etag TEXT NOT NULL,
                        last_modified DOUBLE NOT NULL,
                        storage_class TEXT NOT NULL,
                        blob_id TEXT NOT NULL,
                        meta BLOB NOT NULL,
                        parts INTEGER NOT NULL,
                        delete_marker INTEGER NOT NULL,
                        PRIMARY KEY(bucket, key, seq DESC)
                    ) WITHOUT ROWID;
                    CREATE UNIQUE INDEX object_versions_by_id ON object_versions(bucket, key, version_id);
                    """)
        }
        m.registerMigration("v4-tagging") { db in
            try db.execute(sql: "ALTER TABLE buckets ADD COLUMN tags BLOB")
        }
        m.registerMigration("v5-object-lock") { db in
            try db.execute(sql: "ALTER TABLE buckets ADD COLUMN object_lock BLOB")
        }
        m.registerMigration("v6-lifecycle") { db in
            try db.execute(sql: "ALTER TABLE buckets ADD COLUMN lifecycle BLOB")
        }
        m.registerMigration("v7-catalog-info") { db in
            // When this catalog started to record blobs: blobs older than that were not written through it, so
            // orphan collection never removes them (a lost or replaced meta.sqlite must not wipe the data).
            try db.execute(
                sql: """
                    CREATE TABLE catalog_info(name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
                    INSERT INTO catalog_info(name, value) VALUES ('created_at', ?);
                    """, arguments: [String(Date().timeIntervalSince1970)])
        }
        m.registerMigration("v8-iam", migrate: Self.migrateIAM)
        m.registerMigration("v9-acl") { db in
            try db.execute(
                sql: """
                    ALTER TABLE buckets ADD COLUMN acl TEXT;
                    ALTER TABLE buckets ADD COLUMN ownership TEXT DEFAULT 'BucketOwnerEnforced';
                    ALTER TABLE buckets ADD COLUMN public_access_block TEXT;
                    """)
        }
        m.registerMigration("v10-audit", migrate: Self.migrateAudit)
        m.registerMigration("v11-settings", migrate: Self.migrateSettings)
        m.registerMigration("v12-metrics-history", migrate: Self.migrateMetricsHistory)
        m.registerMigration("v13-cors") { db in try db.execute(sql: "ALTER TABLE buckets ADD COLUMN cors TEXT") }
        m.registerMigration("v14-2fa", migrate: Self.migrateTwoFactor)
        m.registerMigration("v15-bucket-encryption") { db in
            try db.execute(sql: "ALTER TABLE buckets ADD COLUMN encryption TEXT")
        }
        return m
    }

    // MARK: buckets

    private static func bucketRecord(_ row: Row) -> BucketRecord {
        var b = BucketRecord(
            name: row["name"], owner: row["owner"], region: row["region"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            versioning: VersioningState(rawValue: row["versioning"]) ?? .unversioned,
            tags: (row["tags"] as Data?).flatMap { try? JSONDecoder().decode([Tag].self, from: $0) },
            objectLock: (row["object_lock"] as Data?).flatMap {
                try? JSONDecoder().decode(ObjectLockConfig.self, from: $0)
            })
        b.lifecycle = (row["lifecycle"] as Data?).flatMap { try? JSONDecoder().decode([LifecycleRule].self, from: $0) }
        b.tenant = row["tenant"]
        b.usedBytes = row["used_bytes"]
        b.objectCount = row["object_count"]
        b.maxBytes = row["max_bytes"]
        b.maxObjects = row["max_objects"]
        b.policy = row["policy"]
        b.acl = row["acl"]
        b.ownership = row["ownership"]
        b.publicAccessBlock = row["public_access_block"]
        b.cors = row["cors"]
        b.encryption = row["encryption"]
        return b
    }

    package func createBucket(_ bucket: BucketRecord) async throws {
        try await pool.write { db in
            if let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT owner, tenant FROM buckets WHERE name = ?"), arguments: [bucket.name])
            {
                // The same owner, or the same tenant (a tenant is an account, as in AWS).
                let owner: String = row["owner"]
                let tenant: String = row["tenant"]
                let mine = owner == bucket.owner || (!tenant.isEmpty && tenant == bucket.tenant)
                throw mine ? StorageError.bucketAlreadyOwnedByYou : StorageError.bucketAlreadyExists
            }
            if !bucket.tenant.isEmpty,
                let max = try Int64.fetchOne(
                    db, sql: "SELECT max_buckets FROM tenants WHERE id = ?", arguments: [bucket.tenant]), max > 0,
                try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM buckets WHERE tenant = ?", arguments: [bucket.tenant])
                    ?? 0 >= max
            {
                throw StorageError.tooManyBuckets
            }
            try db.execute(
                sql:
                    """
                    INSERT INTO buckets(name, owner, region, created_at, versioning, object_lock, tenant, acl, ownership)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    bucket.name, bucket.owner, bucket.region, bucket.createdAt.timeIntervalSince1970,
                    bucket.versioning.rawValue, try bucket.objectLock.map { try JSONEncoder().encode($0) },
                    bucket.tenant, bucket.acl, bucket.ownership,
                ])
        }
    }

    package func bucket(_ name: String) async throws -> BucketRecord? {
        try await pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM buckets WHERE name = ?"), arguments: [name]).map(
                Self.bucketRecord)
        }
    }

    package func listBuckets(owner: String?, prefix: String?, after: String?, limit: Int) async throws -> [BucketRecord]
    {
        try await pool.read { db in
            var sql = "SELECT * FROM buckets WHERE 1"
            var args: StatementArguments = []
            if let owner {
                sql += " AND owner = ?"
                _ = args.append(contentsOf: [owner])
            }
            if let prefix, !prefix.isEmpty {
                sql += " AND substr(name, 1, ?) = ?"
                _ = args.append(contentsOf: [prefix.count, prefix])
            }
            if let after {
                sql += " AND name > ?"
                _ = args.append(contentsOf: [after])
            }
            sql += " ORDER BY name LIMIT ?"
            _ = args.append(contentsOf: [limit])
            return try Row.fetchAll(db, sql: sql, arguments: args).map(Self.bucketRecord)
        }
    }

    @discardableResult
    package func deleteBucket(_ name: String) async throws -> [String] {
        try await pool.write { db in
            guard
                try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM buckets WHERE name = ?"), arguments: [name])
                    != nil
            else {
                throw StorageError.noSuchBucket
            }
            // Versions and delete markers keep a bucket alive too.
            if try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM objects WHERE bucket = ? LIMIT 1"), arguments: [name]) != nil
                || Bool.fetchOne(
                    db.cachedStatement(sql: "SELECT 1 FROM object_versions WHERE bucket = ? LIMIT 1"), arguments: [name]
                )
                    != nil
            {
                throw StorageError.bucketNotEmpty
            }
            // Uploads in progress do not keep a bucket alive (as in AWS): they go with it.
            let blobs = try String.fetchAll(
                db,
                sql: """
                    SELECT p.blob_id FROM upload_parts p JOIN uploads u ON u.upload_id = p.upload_id
                    WHERE u.bucket = ?
                    """,
                arguments: [name])
            try db.execute(
                sql: "DELETE FROM upload_parts WHERE upload_id IN (SELECT upload_id FROM uploads WHERE bucket = ?)",
                arguments: [name])
            try db.execute(sql: "DELETE FROM uploads WHERE bucket = ?", arguments: [name])
            try db.cachedStatement(sql: "DELETE FROM buckets WHERE name = ?").execute(arguments: [name])
            try db.execute(sql: "DELETE FROM bucket_grants WHERE bucket = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM quota_reservations WHERE bucket = ?", arguments: [name])
            return blobs
        }
    }

    // MARK: objects

    static func requireBucket(_ db: Database, _ name: String) throws {
        guard
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM buckets WHERE name = ?"), arguments: [name]) != nil
        else {
            throw StorageError.noSuchBucket
        }
    }

    /// A row of `objects` or `object_versions`.
    func objectRecord(_ row: Row, bucket: String) throws -> ObjectRecord {
        let keyData: Data = row["key"]
        var r = ObjectRecord(
            bucket: bucket, key: String(decoding: keyData, as: UTF8.self), size: row["size"], etag: row["etag"],
            lastModified: Date(timeIntervalSince1970: row["last_modified"]), blobID: row["blob_id"],
            meta: try decodeMeta(row["meta"]), parts: row["parts"])
        r.versionID = row["version_id"]
        r.isDeleteMarker = row["delete_marker"]
        r.seq = row["seq"]
        return r
    }

    /// Rows hold the compact binary form (a BLOB); rows written by the first development builds hold JSON text.
    func decodeMeta(_ value: DatabaseValue) throws -> ObjectMeta {
        switch value.storage {
        case .blob(let data):
            guard let meta = ObjectMeta(encoded: data) else {
                throw StorageError.io("object metadata row is not in a known format")
            }
            return meta
        case .string(let text):
            return try decoder.decode(ObjectMeta.self, from: Data(text.utf8))
        default:
            throw StorageError.io("object metadata row is not in a known format")
        }
    }

    func fetchObject(_ db: Database, bucket: String, key: String) throws -> ObjectRecord? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM objects WHERE bucket = ? AND key = ?"),
            arguments: [bucket, Data(key.utf8)]
        ).map { try objectRecord($0, bucket: bucket) }
    }

    package func object(bucket: String, key: String) async throws -> ObjectRecord? {
        try await pool.read { db in try self.object(db, bucket: bucket, key: key) }
    }

    package func objectSync(bucket: String, key: String) throws -> ObjectRecord? {
        guard let row = try pointReader.object(bucket: bucket, key: key) else {
            // Tell a missing key from a missing bucket.
            try pool.unsafeRead { db in try Self.requireBucket(db, bucket) }
            return nil
        }
        let meta: ObjectMeta
        if row.metaIsText {
            meta = try decoder.decode(ObjectMeta.self, from: Data(row.meta))
        } else {
            guard let m = ObjectMeta(encoded: row.meta) else {
                throw StorageError.io("object metadata row is not in a known format")
            }
            meta = m
        }
        var r = ObjectRecord(
            bucket: bucket, key: key, size: row.size, etag: row.etag,
            lastModified: Date(timeIntervalSince1970: row.lastModified), blobID: row.blobID, meta: meta,
            parts: row.parts)
        r.versionID = row.versionID
        r.isDeleteMarker = row.deleteMarker
        r.seq = row.seq
        return r
    }

    func object(_ db: Database, bucket: String, key: String) throws -> ObjectRecord? {
        guard let o = try fetchObject(db, bucket: bucket, key: key) else {
            try Self.requireBucket(db, bucket)
            return nil
        }
        return o
    }

    /// For a multipart object leaving the catalog: deletes its manifest and lists its part blobs in the
    /// record, for the caller to retire.
    static func retireManifest(_ db: Database, _ record: inout ObjectRecord) throws {
        guard record.parts > 0 else { return }
        record.partBlobs = try String.fetchAll(
            db.cachedStatement(sql: "SELECT blob_id FROM object_parts WHERE manifest = ? ORDER BY number"),
            arguments: [record.blobID])
        try db.cachedStatement(sql: "DELETE FROM object_parts WHERE manifest = ?").execute(arguments: [record.blobID])
    }

    package func listObjects(bucket: String, query q: ListQuery) async throws -> ListPage {
        try await pool.read { db in
            try Self.requireBucket(db, bucket)
            return try Self.list(db, bucket: bucket, query: q)
        }
    }

    /// Lists in byte order of keys, rolling keys that contain the delimiter after the prefix into
    /// common prefixes and seeking past each one, so a prefix with a million keys costs one seek.
    static func list(_ db: Database, bucket: String, query q: ListQuery) throws -> ListPage {
        var page = ListPage()
        guard q.maxKeys > 0 else { return page }
        let prefix = Array(q.prefix.utf8)
        let upper = prefix.isEmpty ? nil : bytePrefixSuccessor(prefix)
        let delimiter = q.delimiter.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        let after = q.after.map { Array($0.utf8) }
        // Lower bound: (bytes, inclusive).
        var lower: ([UInt8], Bool) = (prefix, true)
        if let after, !after.lexicographicallyPrecedes(prefix) { lower = (after, false) }
        let batch = min(q.maxKeys + 1, 1000)
        var count = 0
        scan: while true {
            var sql =
                "SELECT key, size, etag, last_modified, storage_class\(q.withACLs ? ", meta" : "") FROM objects WHERE bucket = ? AND delete_marker = 0 AND key \(lower.1 ? ">=" : ">") ?"
            var args: StatementArguments = [bucket, Data(lower.0)]
            if let upper {
                sql += " AND key < ?"
                _ = args.append(contentsOf: [Data(upper)])
            }
            sql += " ORDER BY key LIMIT ?"
            _ = args.append(contentsOf: [batch])
            let rows = try Row.fetchAll(db, sql: sql, arguments: args)
            for row in rows {
                let keyData: Data = row["key"]
                let key = Array(keyData)
                lower = (key, false)
                if let delimiter, let cp = commonPrefix(key, prefixCount: prefix.count, delimiter: delimiter) {
                    guard let next = bytePrefixSuccessor(cp) else { break scan }
                    lower = (next, true)
                    if let after, !after.lexicographicallyPrecedes(cp) { continue scan }
                    if count == q.maxKeys {
                        page.isTruncated = true
                        break scan
                    }
                    let s = String(decoding: cp, as: UTF8.self)
                    page.commonPrefixes.append(s)
                    page.lastItem = s
                    count += 1
                    continue scan
                }
                if count == q.maxKeys {
                    page.isTruncated = true
                    break scan
                }
                let s = String(decoding: key, as: UTF8.self)
                var listed = ListedObject(
                    key: s, size: row["size"], etag: row["etag"],
                    lastModified: Date(timeIntervalSince1970: row["last_modified"]),
                    storageClass: row["storage_class"])
                if q.withACLs, let meta = row["meta"] as Data? { listed.acl = ObjectMeta(encoded: meta)?.acl }
                page.objects.append(listed)
                page.lastItem = s
                count += 1
            }
            if rows.count < batch { break }
        }
        return page
    }

    /// The common prefix of `key` (prefix + up to and including the first delimiter after it), if any.
    static func commonPrefix(_ key: [UInt8], prefixCount: Int, delimiter: [UInt8]) -> [UInt8]? {
        guard key.count >= prefixCount + delimiter.count else { return nil }
        var i = prefixCount
        let last = key.count - delimiter.count
        while i <= last {
            if key[i] == delimiter[0] {
                var match = true
                for j in 1..<delimiter.count where key[i + j] != delimiter[j] {
                    match = false
                    break
                }
                if match { return Array(key[0..<(i + delimiter.count)]) }
            }
            i += 1
        }
        return nil
    }

    /// When this catalog was created (or first upgraded to record it).
    package func createdAt() async throws -> Date {
        try await pool.read { db in
            let v = try String.fetchOne(db, sql: "SELECT value FROM catalog_info WHERE name = 'created_at'")
            return Date(timeIntervalSince1970: v.flatMap(Double.init) ?? 0)
        }
    }

    package func referencedBlobIDs() async throws -> Set<String> {
        try await pool.read { db in
            Set(
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT blob_id FROM objects WHERE parts = 0 AND delete_marker = 0
                        UNION ALL SELECT blob_id FROM object_versions WHERE parts = 0 AND delete_marker = 0
                        UNION ALL SELECT blob_id FROM object_parts
                        UNION ALL SELECT blob_id FROM upload_parts
                        """))
        }
    }
}
