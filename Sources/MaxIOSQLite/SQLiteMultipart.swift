import Foundation
import GRDB
import MaxIOCore
import MaxIOStorage

/// Multipart uploads and the manifests of completed multipart objects, in the same database as the objects,
/// so that completing an upload is one transaction.
extension SQLiteMetadataStore {
    private static let uploadColumns =
        "upload_id, bucket, key, initiated, owner, meta, checksum_algorithm, checksum_type"

    private func uploadRecord(_ row: Row) throws -> UploadRecord {
        let keyData: Data = row["key"]
        let algorithm: String? = row["checksum_algorithm"]
        let type: String? = row["checksum_type"]
        return UploadRecord(
            uploadID: row["upload_id"], bucket: row["bucket"], key: String(decoding: keyData, as: UTF8.self),
            initiated: Date(timeIntervalSince1970: row["initiated"]), owner: row["owner"],
            meta: try decodeMeta(row["meta"]), checksumAlgorithm: algorithm.flatMap(ChecksumAlgorithm.init(rawValue:)),
            checksumType: type.flatMap(ChecksumType.init(rawValue:)))
    }

    private static func partRecord(_ row: Row) -> PartRecord {
        PartRecord(
            partNumber: row["number"], size: row["size"], etag: row["etag"],
            lastModified: Date(timeIntervalSince1970: row["last_modified"]), blobID: row["blob_id"],
            checksum: row["checksum"])
    }

    /// The upload if it is in progress for exactly this bucket and key.
    private func fetchUpload(_ db: Database, id: String, bucket: String, key: String) throws -> UploadRecord? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT \(Self.uploadColumns) FROM uploads WHERE upload_id = ?"),
                arguments: [id])
        else { return nil }
        let upload = try uploadRecord(row)
        return upload.bucket == bucket && upload.key == key ? upload : nil
    }

    /// The upload, or `noSuchBucket` / `noSuchUpload`.
    private func requireUpload(_ db: Database, id: String, bucket: String, key: String) throws -> UploadRecord {
        if let u = try fetchUpload(db, id: id, bucket: bucket, key: key) { return u }
        try Self.requireBucket(db, bucket)
        throw StorageError.noSuchUpload
    }

    package func createUpload(_ upload: UploadRecord) async throws {
        let meta = Data(upload.meta.encoded())
        try await pool.write { db in
            try Self.requireBucket(db, upload.bucket)
            try db.execute(
                sql: "INSERT INTO uploads(\(Self.uploadColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    upload.uploadID, upload.bucket, Data(upload.key.utf8), upload.initiated.timeIntervalSince1970,
                    upload.owner, meta, upload.checksumAlgorithm?.rawValue, upload.checksumType?.rawValue,
                ])
        }
    }

    package func upload(id: String, bucket: String, key: String) async throws -> UploadRecord? {
        try await pool.read { db in
            if let u = try self.fetchUpload(db, id: id, bucket: bucket, key: key) { return u }
            try Self.requireBucket(db, bucket)
            return nil
        }
    }

    package func putPart(_ part: PartRecord, uploadID: String, bucket: String, key: String, reservation: String?)
        async throws -> PartRecord?
    {
        try await pool.write { db in
            _ = try self.requireUpload(db, id: uploadID, bucket: bucket, key: key)
            let quota = try Self.quotaState(db, bucket: bucket)
            let old = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM upload_parts WHERE upload_id = ? AND number = ?"),
                arguments: [uploadID, part.partNumber]
            ).map(Self.partRecord)
            try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO upload_parts(upload_id, number, size, etag, last_modified, blob_id, checksum)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                uploadID, part.partNumber, part.size, part.etag, part.lastModified.timeIntervalSince1970, part.blobID,
                part.checksum,
            ])
            try Self.settleQuota(db, before: quota, reservation: reservation, now: Date())
            return old
        }
    }

    package func listParts(uploadID: String, bucket: String, key: String, after: Int, limit: Int) async throws
        -> (UploadRecord, [PartRecord])
    {
        try await pool.read { db in
            let upload = try self.requireUpload(db, id: uploadID, bucket: bucket, key: key)
            let parts = try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT * FROM upload_parts WHERE upload_id = ? AND number > ? ORDER BY number LIMIT ?"),
                arguments: [uploadID, after, limit]
            ).map(Self.partRecord)
            return (upload, parts)
        }
    }

    package func completeUpload(
        uploadID: String, bucket: String, key: String, condition: WriteCondition?,
        build: @Sendable (UploadRecord, [PartRecord]) throws -> (ObjectRecord, [ObjectPart])
    ) async throws -> CompletionResult {
        try await pool.write { db in
            guard let upload = try self.fetchUpload(db, id: uploadID, bucket: bucket, key: key) else {
                // A retried completion: the upload already became the object at the key.
                if let current = try self.fetchObject(db, bucket: bucket, key: key), current.parts > 0,
                    current.blobID == uploadID
                {
                    return CompletionResult(record: current, retired: [], unusedBlobs: [], alreadyCompleted: true)
                }
                try Self.requireBucket(db, bucket)
                throw StorageError.noSuchUpload
            }
            let parts = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM upload_parts WHERE upload_id = ? ORDER BY number"),
                arguments: [uploadID]
            ).map(Self.partRecord)
            let (record, manifest) = try build(upload, parts)
            // The parts' bytes become the object's: only an object quota can be crossed here.
            let quota = try Self.quotaState(db, bucket: bucket)
            let outcome = try self.put(db, record, meta: Data(record.meta.encoded()), condition: condition)
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO object_parts(manifest, number, part_offset, size, blob_id, etag, checksum)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
            for p in manifest {
                try insert.execute(arguments: [record.blobID, p.number, p.offset, p.size, p.blobID, p.etag, p.checksum])
            }
            let used = Set(manifest.map(\.blobID))
            let unused = parts.map(\.blobID).filter { !used.contains($0) }
            try db.cachedStatement(sql: "DELETE FROM upload_parts WHERE upload_id = ?").execute(arguments: [uploadID])
            try db.cachedStatement(sql: "DELETE FROM uploads WHERE upload_id = ?").execute(arguments: [uploadID])
            try Self.settleQuota(db, before: quota, reservation: nil, now: Date())
            return CompletionResult(
                record: outcome.record, retired: outcome.retired, unusedBlobs: unused, alreadyCompleted: false)
        }
    }

    package func abortUpload(uploadID: String, bucket: String, key: String) async throws -> [String] {
        try await pool.write { db in
            _ = try self.requireUpload(db, id: uploadID, bucket: bucket, key: key)
            let blobs = try String.fetchAll(
                db.cachedStatement(sql: "SELECT blob_id FROM upload_parts WHERE upload_id = ?"), arguments: [uploadID])
            try db.cachedStatement(sql: "DELETE FROM upload_parts WHERE upload_id = ?").execute(arguments: [uploadID])
            try db.cachedStatement(sql: "DELETE FROM uploads WHERE upload_id = ?").execute(arguments: [uploadID])
            return blobs
        }
    }

    package func staleUploads(before: Date, limit: Int, bucket: String?) async throws -> [UploadRecord] {
        try await pool.read { db in
            if let bucket {
                return try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(Self.uploadColumns) FROM uploads WHERE bucket = ? AND initiated < ?
                        ORDER BY initiated LIMIT ?
                        """,
                    arguments: [bucket, before.timeIntervalSince1970, limit]
                ).map { try self.uploadRecord($0) }
            }
            return try Row.fetchAll(
                db,
                sql: "SELECT \(Self.uploadColumns) FROM uploads WHERE initiated < ? ORDER BY initiated LIMIT ?",
                arguments: [before.timeIntervalSince1970, limit]
            ).map { try self.uploadRecord($0) }
        }
    }

    package func objectParts(manifest: String) async throws -> [ObjectPart] {
        try await pool.read { db in try Self.parts(db, manifest: manifest) }
    }

    package func objectPartsSync(manifest: String) throws -> [ObjectPart] {
        try pool.unsafeRead { db in try Self.parts(db, manifest: manifest) }
    }

    private static func parts(_ db: Database, manifest: String) throws -> [ObjectPart] {
        try Row.fetchAll(
            db.cachedStatement(
                sql:
                    "SELECT number, part_offset, size, blob_id, etag, checksum FROM object_parts WHERE manifest = ? ORDER BY number"
            ),
            arguments: [manifest]
        ).map {
            ObjectPart(
                number: $0["number"], offset: $0["part_offset"], size: $0["size"], blobID: $0["blob_id"],
                etag: $0["etag"], checksum: $0["checksum"])
        }
    }

    /// Uploads in key, then upload-id (= initiation) order, rolling keys with the delimiter after the
    /// prefix into common prefixes and seeking past each one.
    package func listUploads(bucket: String, query q: UploadsQuery) async throws -> UploadsPage {
        try await pool.read { db in
            try Self.requireBucket(db, bucket)
            var page = UploadsPage()
            guard q.maxUploads > 0 else { return page }
            let prefix = Array(q.prefix.utf8)
            let upper = prefix.isEmpty ? nil : bytePrefixSuccessor(prefix)
            let delimiter = q.delimiter.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
            let marker = q.keyMarker.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
            // Lower bound: a key, and either an upload id after which that key's uploads start, or whether the
            // key itself is included.
            var lower: (key: [UInt8], idAfter: String?, inclusive: Bool) = (prefix, nil, true)
            if let marker, !marker.lexicographicallyPrecedes(prefix) {
                lower = (marker, q.uploadIDMarker.flatMap { $0.isEmpty ? nil : $0 }, false)
            }
            let batch = min(q.maxUploads + 1, 1000)
            var count = 0
            var lastUpload: UploadRecord?
            var lastPrefix: String?
            scan: while true {
                var sql = "SELECT \(Self.uploadColumns) FROM uploads WHERE bucket = ? AND "
                var args: StatementArguments = [bucket]
                if let id = lower.idAfter {
                    sql += "((key = ? AND upload_id > ?) OR key > ?)"
                    _ = args.append(contentsOf: [Data(lower.key), id, Data(lower.key)])
                } else {
                    sql += lower.inclusive ? "key >= ?" : "key > ?"
                    _ = args.append(contentsOf: [Data(lower.key)])
                }
                if let upper {
                    sql += " AND key < ?"
                    _ = args.append(contentsOf: [Data(upper)])
                }
                sql += " ORDER BY key, upload_id LIMIT ?"
                _ = args.append(contentsOf: [batch])
                let rows = try Row.fetchAll(db, sql: sql, arguments: args)
                for row in rows {
                    let keyData: Data = row["key"]
                    let key = Array(keyData)
                    lower = (key, row["upload_id"], false)
                    if let delimiter,
                        let cp = SQLiteMetadataStore.commonPrefix(key, prefixCount: prefix.count, delimiter: delimiter)
                    {
                        guard let next = bytePrefixSuccessor(cp) else { break scan }
                        lower = (next, nil, true)
                        if let marker, !marker.lexicographicallyPrecedes(cp) { continue scan }
                        if count == q.maxUploads {
                            page.isTruncated = true
                            break scan
                        }
                        let s = String(decoding: cp, as: UTF8.self)
                        page.commonPrefixes.append(s)
                        lastPrefix = s
                        lastUpload = nil
                        count += 1
                        continue scan
                    }
                    if count == q.maxUploads {
                        page.isTruncated = true
                        break scan
                    }
                    let u = try self.uploadRecord(row)
                    page.uploads.append(u)
                    lastUpload = u
                    lastPrefix = nil
                    count += 1
                }
                if rows.count < batch { break }
            }
            if page.isTruncated {
                page.nextKeyMarker = lastUpload?.key ?? lastPrefix
                page.nextUploadIDMarker = lastUpload?.uploadID
            }
            return page
        }
    }
}
